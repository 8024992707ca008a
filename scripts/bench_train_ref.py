"""The Python reference stack's training step for the early-fusion model, for comparison
with `vrd-train bench` on the same shapes: HF transformers' XLMRobertaModel from a config
(random weights), peft LoRA (rank 8, alpha 16, dropout 0.1 on the attention and FFN linear
layers) or full fine-tuning, the reference's activity compressor (three AdaLN/SE residual
conv blocks) appended as one token after the embeddings, masked mean pool, the two heads,
AdamW with two learning rates, clipping at 1.0; bf16 through torch.autocast (what the
reference stack would use). Prints one JSON line like vrd-train bench.

    python bench_train_ref.py --config fixtures/bge-m3/config.json --batch-size 8 --length 512
"""

import argparse
import json
import time

import torch
from torch import nn
import torch.nn.functional as F
from transformers import XLMRobertaConfig, XLMRobertaModel


class AdaLN(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.width = width
        self.modulation = nn.Linear(1, 2 * width, bias=False)
        nn.init.zeros_(self.modulation.weight)

    def forward(self, x, cond):  # x (B, C, L), cond (B, 1)
        normed = F.layer_norm(x.transpose(1, 2), (self.width,), eps=1e-6)
        gamma, beta = self.modulation(F.silu(cond)).unsqueeze(1).chunk(2, dim=-1)
        return (normed * (gamma + 1) + beta).transpose(1, 2)


class SE(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.down = nn.Linear(width, max(width // 16, 1), bias=False)
        self.up = nn.Linear(max(width // 16, 1), width, bias=False)

    def forward(self, x):
        return x * torch.sigmoid(self.up(F.relu(self.down(x.mean(2))))).unsqueeze(2)


class ResBlock(nn.Module):
    def __init__(self, c_in, c_out, kernel, stride, dropout):
        super().__init__()
        pad = (kernel - 1) // 2
        self.norm1, self.norm2 = AdaLN(c_in), AdaLN(c_out)
        self.conv1 = nn.Conv1d(c_in, c_out, kernel, stride, pad, bias=False)
        self.conv2 = nn.Conv1d(c_out, c_out, kernel, 1, pad, bias=False)
        self.se = SE(c_out)
        self.dropout = nn.Dropout(dropout)
        self.skip = None
        if stride > 1 or c_in != c_out:
            self.skip = nn.Conv1d(c_in, c_out, 1, stride, bias=False)
            self.skip_norm = nn.LayerNorm(c_out)

    def forward(self, x, cond):
        h = self.conv1(F.silu(self.norm1(x, cond)))
        h = self.conv2(F.silu(self.norm2(self.dropout(h), cond)))
        h = self.se(h)
        skip = x if self.skip is None else self.skip_norm(self.skip(x).transpose(1, 2)).transpose(1, 2)
        return h + skip


class Compressor(nn.Module):
    def __init__(self, text_dim, num_features, out_dim, dropout=0.3):
        super().__init__()
        self.num_projector = nn.Linear(num_features, text_dim)
        c_in, mid = 2 * text_dim, (2 * text_dim + out_dim) // 2
        self.blocks = nn.ModuleList(
            [ResBlock(c_in, mid, 7, 2, dropout), ResBlock(mid, out_dim, 5, 2, dropout), ResBlock(out_dim, out_dim, 3, 1, dropout)]
        )

    def forward(self, text, num, mask, cond):
        x = torch.cat([text, self.num_projector(num)], 2) * mask.unsqueeze(2).to(text.dtype)
        x = x.transpose(1, 2)
        cond = cond.unsqueeze(1)
        for block in self.blocks:
            x = block(x, cond)
        return x.mean(2)


class Heads(nn.Module):
    def __init__(self, width, dropout=0.1):
        super().__init__()
        self.gate_value = nn.Linear(width, 1024, bias=False)
        self.down = nn.Linear(512, 256, bias=False)
        self.interest_out = nn.Linear(256, 2)
        self.right_in = nn.Linear(width, 256)
        self.right_out = nn.Linear(256, 2)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        gate, value = self.gate_value(x).chunk(2, dim=-1)
        interest = self.interest_out(self.dropout(self.down(F.silu(gate) * value)))
        right = self.right_out(self.dropout(F.relu(self.right_in(x))))
        return interest, right


class Fused(nn.Module):
    def __init__(self, encoder, hidden, context_dim, num_features):
        super().__init__()
        self.encoder = encoder
        self.compressor = Compressor(context_dim, num_features, hidden)
        self.heads = Heads(hidden)

    def forward(self, ids, mask, ctext, cnum, cmask, dz):
        base = self.encoder.base_model.model if hasattr(self.encoder, "peft_config") else self.encoder
        text = base.embeddings(input_ids=ids)
        token = self.compressor(ctext, cnum, cmask, dz)
        hidden = torch.cat([text, token.unsqueeze(1).to(text.dtype)], 1)
        full_mask = torch.cat([mask, torch.ones_like(mask[:, :1])], 1)
        ext, _ = base._create_attention_masks(
            attention_mask=full_mask,
            encoder_attention_mask=None,
            embedding_output=hidden,
            encoder_hidden_states=None,
            past_key_values=None,
        )
        out = base.encoder(hidden, attention_mask=ext).last_hidden_state
        m = full_mask.unsqueeze(-1).to(out.dtype)
        pooled = (out * m).sum(1) / m.sum(1).clamp_min(1e-9)
        return self.heads(pooled)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--length", type=int, default=512)
    ap.add_argument("--events", type=int, default=64)
    ap.add_argument("--context-dim", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup-steps", type=int, default=3)
    ap.add_argument("--finetune", choices=["lora", "full"], default="lora")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--precision", choices=["f32", "bf16"], default="bf16")
    a = ap.parse_args()
    torch.manual_seed(0)
    device = torch.device(a.device)
    config = XLMRobertaConfig.from_json_file(a.config)
    encoder = XLMRobertaModel(config, add_pooling_layer=False)
    if a.finetune == "lora":
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.1, target_modules=["query", "key", "value", "dense"])
        encoder = get_peft_model(encoder, lora)
    features = 5
    model = Fused(encoder, config.hidden_size, a.context_dim, features).to(device)
    model.train()
    new = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("encoder.")]
    enc = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith("encoder.")]
    opt = torch.optim.AdamW([{"params": enc, "lr": 5e-5}, {"params": new, "lr": 5e-4}], weight_decay=0.01)
    b, t, l = a.batch_size, a.length, a.events
    ids = torch.randint(5, config.vocab_size, (b, t), device=device)
    mask = torch.ones(b, t, dtype=torch.long, device=device)
    ctext = torch.randn(b, l, a.context_dim, device=device)
    cnum = torch.randn(b, l, features, device=device)
    cmask = torch.ones(b, l, dtype=torch.long, device=device)
    dz = torch.randn(b, device=device)
    targets = torch.randint(0, 2, (b,), device=device)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=a.precision == "bf16")

    def step():
        with autocast:
            interest, right = model(ids, mask, ctext, cnum, cmask, dz)
        loss = F.cross_entropy(interest.float(), targets) + F.cross_entropy(right.float(), targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.item()

    for _ in range(a.warmup_steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    loss = 0.0
    for _ in range(a.steps):
        loss = step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    secs = time.perf_counter() - started
    params = list(model.parameters())
    print(
        json.dumps(
            {
                "tool": "transformers+peft",
                "versions": {"torch": torch.__version__, "transformers": __import__("transformers").__version__},
                "finetune": a.finetune,
                "precision": a.precision,
                "device": str(device),
                "batch_size": b,
                "length": t,
                "events": l,
                "steps": a.steps,
                "seconds": secs,
                "steps_per_s": a.steps / secs,
                "params_total": sum(p.numel() for p in params),
                "params_trainable": sum(p.numel() for p in params if p.requires_grad),
                "peak_allocated_mb": torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else None,
                "last_loss": loss,
            }
        )
    )


if __name__ == "__main__":
    main()
