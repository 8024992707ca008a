"""The tables of scripts/bench-next-watch from `vrd-train next-watch`'s ranks.

For each person and pool: MRR, recall@10, NDCG@10 of every method, on all targets and
split by targets from a channel already in the history ("known") and from a new one; the
MRR ratio of each method to the cold-start feed's with a paired bootstrap 95% interval
(test moments resampled with replacement, 2,000 times); then the geometric mean of the
ratios over the people.
"""
import json
import math
import os
import random
import sys

METHODS = ["model", "regression", "fusion", "sim_last", "lex_last", "sim_plus_lex_last", "channel_recency", "cold_start", "chance"]
BOOTSTRAP = 2000


def metrics(ranks):
    n = max(len(ranks), 1)
    return (
        sum(1 / r for r in ranks) / n,
        sum(r <= 10 for r in ranks) / n,
        sum(1 / math.log2(r + 1) for r in ranks if r <= 10) / n,
    )


def mrr(ranks):
    return sum(1 / r for r in ranks) / max(len(ranks), 1)


def bootstrap_ratio(lines, method, rng):
    """The 95% interval of MRR(method) / MRR(cold start), moments resampled."""
    a = [1 / l["ranks"][method] for l in lines]
    b = [1 / l["ranks"]["cold_start"] for l in lines]
    n = len(a)
    ratios = []
    for _ in range(BOOTSTRAP):
        idx = [rng.randrange(n) for _ in range(n)]
        sb = sum(b[i] for i in idx)
        ratios.append(sum(a[i] for i in idx) / sb if sb else float("inf"))
    ratios.sort()
    return ratios[int(0.025 * BOOTSTRAP)], ratios[int(0.975 * BOOTSTRAP) - 1]


def lexical_report(work, people, rng):
    """The model with the lexical view ÷ without it, per person, pool and seed (the same
    moments and pools within a seed), against the seed-to-seed spread of the model
    without it: the largest ÷ smallest of its MRR over the seeds, less one."""
    seeds = os.environ.get("SEEDS", "42").split()
    tags = lambda name: [name] + [f"{name}.seed{s}" for s in seeds[1:]]
    g = lambda xs: math.exp(sum(math.log(x) for x in xs) / len(xs))
    print(f"\n### The lexical view: the model with it ÷ without it (seeds {', '.join(seeds)})\n")
    print("| person | pool | MRR without (per seed) | MRR with (per seed) | with ÷ without (per seed) | mean | seed-to-seed spread without | first seed [95% CI] |")
    print("|---|---|---|---|---|---|---|---|")
    gains = {"timing": [], "interest": []}
    for name in people:
        for pool in ("timing", "interest"):
            without, with_, ratio = [], [], []
            for tag in tags(name):
                a = [1 / l["ranks"]["model"] for l in map(json.loads, open(f"{work}/{tag}.nolex.ranks.jsonl")) if l["pool"] == pool]
                b = [1 / l["ranks"]["model"] for l in map(json.loads, open(f"{work}/{tag}.ranks.jsonl")) if l["pool"] == pool]
                without.append(sum(a) / len(a))
                with_.append(sum(b) / len(b))
                ratio.append(with_[-1] / without[-1])
                if tag == name:
                    n, boot = len(a), []
                    for _ in range(BOOTSTRAP):
                        idx = [rng.randrange(n) for _ in range(n)]
                        boot.append(sum(b[i] for i in idx) / sum(a[i] for i in idx))
                    boot.sort()
                    ci = f"{ratio[-1]:.2f} [{boot[int(0.025 * BOOTSTRAP)]:.2f}, {boot[int(0.975 * BOOTSTRAP) - 1]:.2f}]"
            spread = max(without) / min(without) - 1
            gains[pool].append(g(ratio))
            fmt = lambda xs: " ".join(f"{x:.3f}" for x in xs)
            print(f"| {name} | {pool} | {fmt(without)} | {fmt(with_)} | {' '.join(f'{r:.2f}' for r in ratio)} | {g(ratio):.3f} | {spread:.3f} | {ci} |")
    print("\n| pool | geometric mean over the people of with ÷ without (each person's mean over the seeds) |")
    print("|---|---|")
    for pool in ("timing", "interest"):
        print(f"| {pool} | {g(gains[pool]):.3f} |")


def main():
    global METHODS
    work, people = sys.argv[1], sys.argv[2:]
    # The early-fusion model is a method only in runs that trained it (--arch fusion).
    first = json.loads(open(f"{work}/{people[0]}.ranks.jsonl").readline())
    METHODS = [m for m in METHODS if m in first["ranks"]]
    rng = random.Random(7)
    ratios = {pool: {m: [] for m in METHODS} for pool in ("timing", "interest")}
    for pool in ("timing", "interest"):
        print(f"\n### {pool} pool\n")
        print("| person | watches | test moments (new channel) | mean pool | method | MRR | recall@10 | NDCG@10 | MRR known / new channel | MRR ÷ cold start [95% CI] |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for name in people:
            lines = [json.loads(l) for l in open(f"{work}/{name}.ranks.jsonl")]
            lines = [l for l in lines if l["pool"] == pool]
            watches = sum(1 for _ in open(f"{work}/{name}.jsonl"))
            new = [l for l in lines if l["new_channel"]]
            known = [l for l in lines if not l["new_channel"]]
            size = sum(l["size"] for l in lines) / max(len(lines), 1)
            base = mrr([l["ranks"]["cold_start"] for l in lines])
            for i, m in enumerate(METHODS):
                r = [l["ranks"][m] for l in lines]
                m_mrr, rec, ndcg = metrics(r)
                lo, hi = bootstrap_ratio(lines, m, rng)
                ratio = m_mrr / base if base else float("nan")
                ratios[pool][m].append(ratio)
                head = f"| {name} | {watches} | {len(lines)} ({len(new)}) | {size:.0f} " if i == 0 else "| | | | "
                split = f"{mrr([l['ranks'][m] for l in known]):.3f} / {mrr([l['ranks'][m] for l in new]):.3f}"
                bold = "**" if m == "model" else ""
                print(f"{head}| {bold}{m}{bold} | {m_mrr:.3f} | {rec:.3f} | {ndcg:.3f} | {split} | {ratio:.2f} [{lo:.2f}, {hi:.2f}] |")
    print("\n### Geometric mean over the people of MRR ÷ cold start's MRR\n")
    print("| method | timing pool | interest pool |")
    print("|---|---|---|")
    for m in METHODS:
        g = lambda xs: math.exp(sum(math.log(x) for x in xs) / len(xs))
        print(f"| {m} | {g(ratios['timing'][m]):.2f} | {g(ratios['interest'][m]):.2f} |")
    for name in people:
        try:
            without = [json.loads(l) for l in open(f"{work}/{name}.nosearch.ranks.jsonl")]
        except FileNotFoundError:
            continue
        with_ = [json.loads(l) for l in open(f"{work}/{name}.ranks.jsonl")]
        print(f"\n### {name}: the model with its searches ÷ without them (same moments)\n")
        print("| pool | MRR without | MRR with | with ÷ without [95% CI] |")
        print("|---|---|---|---|")
        for pool in ("timing", "interest"):
            a = [1 / l["ranks"]["model"] for l in without if l["pool"] == pool]
            b = [1 / l["ranks"]["model"] for l in with_ if l["pool"] == pool]
            n, ratios = len(a), []
            for _ in range(BOOTSTRAP):
                idx = [rng.randrange(n) for _ in range(n)]
                ratios.append(sum(b[i] for i in idx) / sum(a[i] for i in idx))
            ratios.sort()
            lo, hi = ratios[int(0.025 * BOOTSTRAP)], ratios[int(0.975 * BOOTSTRAP) - 1]
            print(f"| {pool} | {sum(a) / n:.3f} | {sum(b) / n:.3f} | {sum(b) / sum(a):.2f} [{lo:.2f}, {hi:.2f}] |")
    lexical_report(work, people, rng)
    print()
    for name in people:
        card = json.load(open(f"{work}/{name}.model/pick.json"))
        seconds = open(f"{work}/{name}.seconds").read().strip()
        sel = ", ".join(f"{k} {v:.3f}" for k, v in sorted(card["selection"].items()))
        print(f"- {name}: chosen **{card['chosen']}** ({card['history']['moments']} training moments; held-out MRR: {sel}); {seconds} s")


main()
