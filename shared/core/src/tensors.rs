//! Embedding matrices on disk, as safetensors files any safetensors reader can open
//! (Python's `safetensors.numpy.load_file` included).
//!
//! Layout: one tensor `embeddings`, F32, shape `[rows, dim]`, row-major; the header's
//! `__metadata__` carries what a later run needs to trust or reuse the rows:
//! `format`, `model_id`, `dim`, `rows`, `ids` (JSON array of video ids, row order) and
//! `text_hashes` (JSON array, the hash of the exact text each row was made from).
//!
//! The writer lays out the whole file up front and fills rows in any order at their final
//! offsets, so encoding a large catalogue never holds the matrix in memory, and the file
//! only appears (renamed from a temporary) once every row is written.

use crate::output::{persist, temp_sibling};
use anyhow::{anyhow, bail, Context, Result};
use safetensors::{Dtype, SafeTensors};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

pub const FORMAT: &str = "vrd-embeddings/1";
pub const TENSOR_NAME: &str = "embeddings";

#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingMeta {
    pub model_id: String,
    pub dim: usize,
    pub ids: Vec<String>,
    pub text_hashes: Vec<String>,
}

impl EmbeddingMeta {
    pub fn rows(&self) -> usize {
        self.ids.len()
    }

    fn to_header_map(&self) -> Result<BTreeMap<String, String>> {
        let mut m = BTreeMap::new();
        m.insert("format".into(), FORMAT.into());
        m.insert("model_id".into(), self.model_id.clone());
        m.insert("dim".into(), self.dim.to_string());
        m.insert("rows".into(), self.rows().to_string());
        m.insert("ids".into(), serde_json::to_string(&self.ids)?);
        m.insert("text_hashes".into(), serde_json::to_string(&self.text_hashes)?);
        Ok(m)
    }

    fn from_header_map(m: &HashMap<String, String>, file: &Path) -> Result<Self> {
        let get = |key: &str| {
            m.get(key)
                .ok_or_else(|| anyhow!("{}: metadata has no `{key}` (not a vrd embeddings file?)", file.display()))
        };
        let format = get("format")?;
        if format != FORMAT {
            bail!("{}: unsupported embeddings format {format:?} (expected {FORMAT})", file.display());
        }
        let dim = get("dim")?.parse().with_context(|| format!("{}: metadata `dim`", file.display()))?;
        let ids: Vec<String> =
            serde_json::from_str(get("ids")?).with_context(|| format!("{}: metadata `ids`", file.display()))?;
        let text_hashes: Vec<String> = serde_json::from_str(get("text_hashes")?)
            .with_context(|| format!("{}: metadata `text_hashes`", file.display()))?;
        if text_hashes.len() != ids.len() {
            bail!("{}: {} ids but {} text hashes", file.display(), ids.len(), text_hashes.len());
        }
        Ok(EmbeddingMeta { model_id: get("model_id")?.clone(), dim, ids, text_hashes })
    }
}

/// One tensor of a file being written.
#[derive(Debug, Clone)]
pub struct TensorSpec {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
}

impl TensorSpec {
    pub fn new(name: &str, dtype: Dtype, shape: &[usize]) -> TensorSpec {
        TensorSpec { name: name.to_string(), dtype, shape: shape.to_vec() }
    }

    fn byte_len(&self) -> usize {
        self.shape.iter().product::<usize>() * element_size(self.dtype)
    }
}

fn element_size(dtype: Dtype) -> usize {
    match dtype {
        Dtype::F64 | Dtype::I64 | Dtype::U64 => 8,
        Dtype::F32 | Dtype::I32 | Dtype::U32 => 4,
        Dtype::F16 | Dtype::BF16 | Dtype::I16 | Dtype::U16 => 2,
        _ => 1,
    }
}

/// A safetensors file laid out up front and filled piece by piece at final offsets, so a
/// large output is streamed to disk instead of built in memory. The file appears (renamed
/// from a temporary) only when [`SafetensorsWriter::finish`] is called.
pub struct SafetensorsWriter {
    file: tempfile::NamedTempFile,
    dest: PathBuf,
    /// Absolute file offset and byte length of each tensor's data.
    regions: Vec<(u64, usize)>,
}

impl SafetensorsWriter {
    pub fn create(dest: &Path, specs: &[TensorSpec], metadata: &BTreeMap<String, String>) -> Result<Self> {
        let mut header = serde_json::Map::new();
        header.insert("__metadata__".into(), serde_json::to_value(metadata)?);
        let mut offset = 0usize;
        let mut relative = Vec::with_capacity(specs.len());
        for spec in specs {
            let len = spec.byte_len();
            header.insert(
                spec.name.clone(),
                serde_json::json!({"dtype": format!("{:?}", spec.dtype), "shape": spec.shape, "data_offsets": [offset, offset + len]}),
            );
            relative.push((offset, len));
            offset += len;
        }
        let mut header = serde_json::to_vec(&header)?;
        // Readers that memory-map the data want it 8-byte aligned; the format allows
        // trailing spaces in the header for exactly this.
        while header.len() % 8 != 0 {
            header.push(b' ');
        }
        let mut file = temp_sibling(dest)?;
        let f = file.as_file_mut();
        f.write_all(&(header.len() as u64).to_le_bytes())?;
        f.write_all(&header)?;
        let data_start = 8 + header.len() as u64;
        f.set_len(data_start + offset as u64).with_context(|| format!("writing {}", dest.display()))?;
        let regions = relative.into_iter().map(|(o, len)| (data_start + o as u64, len)).collect();
        Ok(SafetensorsWriter { file, dest: dest.to_path_buf(), regions })
    }

    /// Writes `bytes` (little-endian values) into tensor number `tensor` at `byte_offset`.
    pub fn write(&self, tensor: usize, byte_offset: usize, bytes: &[u8]) -> Result<()> {
        let (start, len) = self.regions[tensor];
        if byte_offset + bytes.len() > len {
            bail!("internal: write past the end of tensor {tensor} of {}", self.dest.display());
        }
        self.file
            .as_file()
            .write_all_at(bytes, start + byte_offset as u64)
            .with_context(|| format!("writing {}", self.dest.display()))
    }

    pub fn finish(self) -> Result<()> {
        persist(self.file, &self.dest)
    }
}

/// Little-endian bytes of f32 values.
pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Reads the JSON header of a safetensors file (tensor entries and `__metadata__`)
/// without reading its data. Returns the header and where the data starts.
pub fn read_header(path: &Path) -> Result<(HashMap<String, serde_json::Value>, u64)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let not_safetensors = || anyhow!("{}: not a safetensors file", path.display());
    let mut len = [0u8; 8];
    file.read_exact(&mut len).map_err(|_| not_safetensors())?;
    let header_len = u64::from_le_bytes(len);
    if header_len > file.metadata()?.len().saturating_sub(8) || header_len > 1 << 30 {
        return Err(not_safetensors());
    }
    let mut header = vec![0u8; header_len as usize];
    file.read_exact(&mut header).map_err(|_| not_safetensors())?;
    let header = serde_json::from_slice(&header).map_err(|_| not_safetensors())?;
    Ok((header, 8 + header_len))
}

/// The string metadata of a safetensors file.
pub fn read_metadata(path: &Path) -> Result<HashMap<String, String>> {
    let (header, _) = read_header(path)?;
    header
        .get("__metadata__")
        .and_then(|m| serde_json::from_value(m.clone()).ok())
        .ok_or_else(|| anyhow!("{}: no metadata", path.display()))
}

/// Fills an embeddings file row by row, in any order.
pub struct EmbeddingWriter {
    inner: SafetensorsWriter,
    dim: usize,
    written: Vec<bool>,
}

impl EmbeddingWriter {
    pub fn create(dest: &Path, meta: &EmbeddingMeta) -> Result<Self> {
        if meta.dim == 0 {
            bail!("embedding dimension must be positive");
        }
        let spec = TensorSpec::new(TENSOR_NAME, Dtype::F32, &[meta.rows(), meta.dim]);
        let inner = SafetensorsWriter::create(dest, &[spec], &meta.to_header_map()?)?;
        Ok(EmbeddingWriter { inner, dim: meta.dim, written: vec![false; meta.rows()] })
    }

    /// Writes consecutive rows of a batch (`values.len() == rows.len() * dim`) at the
    /// positions `rows`.
    pub fn write_rows(&mut self, rows: &[usize], values: &[f32]) -> Result<()> {
        if values.len() != rows.len() * self.dim {
            bail!("internal: {} values for {} rows of dim {}", values.len(), rows.len(), self.dim);
        }
        for (k, &row) in rows.iter().enumerate() {
            let slot = self.written.get_mut(row).ok_or_else(|| anyhow!("internal: row {row} out of range"))?;
            *slot = true;
            self.inner.write(0, row * self.dim * 4, &f32_bytes(&values[k * self.dim..(k + 1) * self.dim]))?;
        }
        Ok(())
    }

    /// Moves the file into place; fails (leaving nothing behind) if a row was never written.
    pub fn finish(self) -> Result<()> {
        if let Some(missing) = self.written.iter().position(|w| !w) {
            bail!("internal: row {missing} of {} was never written", self.inner.dest.display());
        }
        self.inner.finish()
    }
}

/// An embeddings file opened for reading single rows, without loading the matrix: what an
/// incremental run needs from the previous output, in bounded memory however large it is.
pub struct EmbeddingReader {
    file: std::fs::File,
    path: PathBuf,
    data_start: u64,
    pub meta: EmbeddingMeta,
}

impl EmbeddingReader {
    pub fn open(path: &Path) -> Result<EmbeddingReader> {
        let (header, data_start) = read_header(path)?;
        let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let file_len = file.metadata()?.len();
        let meta_map: HashMap<String, String> = header
            .get("__metadata__")
            .and_then(|m| serde_json::from_value(m.clone()).ok())
            .ok_or_else(|| anyhow!("{}: no metadata (not a vrd embeddings file?)", path.display()))?;
        let meta = EmbeddingMeta::from_header_map(&meta_map, path)?;
        let info =
            header.get(TENSOR_NAME).ok_or_else(|| anyhow!("{}: no tensor named `{TENSOR_NAME}`", path.display()))?;
        let expected_end = data_start + (meta.rows() * meta.dim * 4) as u64;
        if info["dtype"] != "F32"
            || info["shape"] != serde_json::json!([meta.rows(), meta.dim])
            || info["data_offsets"][0] != 0
            || file_len < expected_end
        {
            bail!(
                "{}: tensor `{TENSOR_NAME}` does not match its metadata (F32 [{}, {}])",
                path.display(),
                meta.rows(),
                meta.dim
            );
        }
        Ok(EmbeddingReader { file, path: path.to_path_buf(), data_start, meta })
    }

    /// Reads row `i` into `out` (`dim` values).
    pub fn read_row(&self, i: usize, out: &mut Vec<f32>) -> Result<()> {
        let dim = self.meta.dim;
        let mut bytes = vec![0u8; dim * 4];
        self.file
            .read_exact_at(&mut bytes, self.data_start + (i * dim * 4) as u64)
            .with_context(|| format!("reading row {i} of {}", self.path.display()))?;
        out.clear();
        out.extend(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])));
        Ok(())
    }

    /// Row number by video id (the first row wins if an id repeats).
    pub fn index(&self) -> HashMap<&str, usize> {
        index_ids(&self.meta.ids)
    }
}

fn index_ids(ids: &[String]) -> HashMap<&str, usize> {
    let mut m = HashMap::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        m.entry(id.as_str()).or_insert(i);
    }
    m
}

/// A whole embeddings file in memory.
#[derive(Debug, Clone)]
pub struct Embeddings {
    pub meta: EmbeddingMeta,
    data: Vec<f32>,
}

impl Embeddings {
    pub fn read(path: &Path) -> Result<Embeddings> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let (_, header) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| anyhow!("{}: not a safetensors file: {e:?}", path.display()))?;
        let meta_map = header
            .metadata()
            .as_ref()
            .ok_or_else(|| anyhow!("{}: no metadata (not a vrd embeddings file?)", path.display()))?;
        let meta = EmbeddingMeta::from_header_map(meta_map, path)?;
        let st = SafeTensors::deserialize(&bytes).map_err(|e| anyhow!("{}: {e:?}", path.display()))?;
        let view =
            st.tensor(TENSOR_NAME).map_err(|_| anyhow!("{}: no tensor named `{TENSOR_NAME}`", path.display()))?;
        if view.dtype() != Dtype::F32 || view.shape() != [meta.rows(), meta.dim] {
            bail!(
                "{}: tensor `{TENSOR_NAME}` is {:?} {:?}, metadata says F32 [{}, {}]",
                path.display(),
                view.dtype(),
                view.shape(),
                meta.rows(),
                meta.dim
            );
        }
        let data = view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        Ok(Embeddings { meta, data })
    }

    /// An in-memory matrix, `data` row-major with `meta.rows() * meta.dim` values.
    pub fn from_parts(meta: EmbeddingMeta, data: Vec<f32>) -> Result<Embeddings> {
        if data.len() != meta.rows() * meta.dim || meta.text_hashes.len() != meta.rows() {
            bail!(
                "{} values and {} hashes for {} rows of dim {}",
                data.len(),
                meta.text_hashes.len(),
                meta.rows(),
                meta.dim
            );
        }
        Ok(Embeddings { meta, data })
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.meta.dim..(i + 1) * self.meta.dim]
    }

    /// All rows, row-major.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Row number by video id (the first row wins if an id repeats).
    pub fn index(&self) -> HashMap<&str, usize> {
        index_ids(&self.meta.ids)
    }

    /// Appends rows (`values` row-major, `dim` per row).
    pub fn push_rows(&mut self, ids: Vec<String>, text_hashes: Vec<String>, values: &[f32]) -> Result<()> {
        if ids.len() != text_hashes.len() || values.len() != ids.len() * self.meta.dim {
            bail!(
                "internal: {} ids, {} hashes, {} values of dim {}",
                ids.len(),
                text_hashes.len(),
                values.len(),
                self.meta.dim
            );
        }
        self.meta.ids.extend(ids);
        self.meta.text_hashes.extend(text_hashes);
        self.data.extend_from_slice(values);
        Ok(())
    }

    /// Keeps the rows whose id `keep` says to keep (in order); returns how many went.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) -> usize {
        let dim = self.meta.dim;
        let rows = self.meta.rows();
        let kept: Vec<usize> = (0..rows).filter(|&i| keep(&self.meta.ids[i])).collect();
        if kept.len() == rows {
            return 0;
        }
        self.data = kept.iter().flat_map(|&i| self.data[i * dim..(i + 1) * dim].iter().copied()).collect();
        self.meta.ids = kept.iter().map(|&i| self.meta.ids[i].clone()).collect();
        self.meta.text_hashes = kept.iter().map(|&i| self.meta.text_hashes[i].clone()).collect();
        rows - kept.len()
    }

    /// Writes the matrix as an embeddings file (complete, or nothing: see [`EmbeddingWriter`]).
    pub fn write(&self, dest: &Path) -> Result<()> {
        let mut writer = EmbeddingWriter::create(dest, &self.meta)?;
        let rows: Vec<usize> = (0..self.meta.rows()).collect();
        writer.write_rows(&rows, &self.data)?;
        writer.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_written_out_of_order_read_back_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.safetensors");
        let meta = EmbeddingMeta {
            model_id: "m".into(),
            dim: 3,
            ids: vec!["a".into(), "b".into(), "c".into()],
            text_hashes: vec!["h1".into(), "h2".into(), "h3".into()],
        };
        let mut w = EmbeddingWriter::create(&path, &meta).unwrap();
        w.write_rows(&[2, 0], &[7.0, 8.0, 9.0, 1.0, 2.0, 3.0]).unwrap();
        assert!(!path.exists(), "the file must not appear before it is complete");
        w.write_rows(&[1], &[4.0, 5.0, 6.0]).unwrap();
        w.finish().unwrap();
        let e = Embeddings::read(&path).unwrap();
        assert_eq!(e.meta, meta);
        assert_eq!(e.row(0), [1.0, 2.0, 3.0]);
        assert_eq!(e.row(2), [7.0, 8.0, 9.0]);
        assert_eq!(e.index()["b"], 1);

        let r = EmbeddingReader::open(&path).unwrap();
        assert_eq!(r.meta, meta);
        let mut row = Vec::new();
        r.read_row(2, &mut row).unwrap();
        assert_eq!(row, [7.0, 8.0, 9.0]);
        std::fs::write(&path, &std::fs::read(&path).unwrap()[..60]).unwrap();
        assert!(EmbeddingReader::open(&path).is_err(), "a truncated file is refused");
    }

    #[test]
    fn rows_pushed_in_memory_write_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.safetensors");
        let meta = EmbeddingMeta { model_id: "m".into(), dim: 2, ids: vec!["a".into()], text_hashes: vec!["h".into()] };
        let mut e = Embeddings::from_parts(meta, vec![1.0, 2.0]).unwrap();
        assert!(e.push_rows(vec!["b".into()], vec![], &[3.0, 4.0]).is_err(), "a row without its hash is refused");
        e.push_rows(vec!["b".into(), "c".into()], vec!["h2".into(), "h3".into()], &[3.0, 4.0, 5.0, 6.0]).unwrap();
        e.write(&path).unwrap();
        let back = Embeddings::read(&path).unwrap();
        assert_eq!(back.meta.ids, ["a", "b", "c"]);
        assert_eq!(back.meta.text_hashes, ["h", "h2", "h3"]);
        assert_eq!(back.row(2), [5.0, 6.0]);
    }

    #[test]
    fn incomplete_file_is_never_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.safetensors");
        let meta = EmbeddingMeta {
            model_id: "m".into(),
            dim: 2,
            ids: vec!["a".into(), "b".into()],
            text_hashes: vec!["x".into(), "y".into()],
        };
        let mut w = EmbeddingWriter::create(&path, &meta).unwrap();
        w.write_rows(&[0], &[1.0, 2.0]).unwrap();
        assert!(w.finish().is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file and no temporary left behind");
    }

    #[test]
    fn rejects_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.safetensors");
        std::fs::write(&path, b"not a tensor file at all").unwrap();
        let err = Embeddings::read(&path).unwrap_err().to_string();
        assert!(err.contains("bad.safetensors") && err.contains("not a safetensors file"), "{err}");
        let err = EmbeddingReader::open(&path).err().unwrap().to_string();
        assert!(err.contains("bad.safetensors") && err.contains("not a safetensors file"), "{err}");
    }
}
