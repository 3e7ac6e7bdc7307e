//! Files under the data directory, as the rest of the server holds them:
//! never a path, only these types. A file being written lives under `tmp/`
//! and is removed when dropped, unless a `Store` method moved it into place
//! (synced, renamed, the directory synced), so an error or a panic leaves
//! nothing behind and a crash leaves only `tmp/`, which opening empties.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;

use super::{Result, StorageError, io};
use data::ingest;

/// A file under `tmp/`, removed when dropped unless kept.
#[derive(Debug)]
pub(super) struct TempFile {
    path: PathBuf,
    kept: bool,
}

impl TempFile {
    pub(super) fn new(path: PathBuf) -> TempFile {
        TempFile { path, kept: false }
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Moves the finished file to `dest`, durably: the data is synced
    /// before the rename, and the directory after it.
    pub(super) fn persist(mut self, dest: &Path, pause: Option<std::time::Duration>) -> Result<()> {
        fs::File::open(&self.path)
            .and_then(|f| f.sync_all())
            .map_err(io(&self.path))?;
        if let Some(pause) = pause {
            tracing::warn!(file = %self.path.display(), "fault injection: pausing before the rename");
            std::thread::sleep(pause);
        }
        fs::rename(&self.path, dest).map_err(io(dest))?;
        self.kept = true;
        if let Some(dir) = dest.parent() {
            fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io(dir))?;
        }
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.kept {
            // Absent already when the write never created it.
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// An upload being received: the multipart handler streams its chunks
/// here, counting its size.
#[derive(Debug)]
pub struct Upload {
    file: tokio::fs::File,
    temp: TempFile,
    size: u64,
}

impl Upload {
    pub(super) async fn create(temp: TempFile) -> Result<Upload> {
        let file = tokio::fs::File::create(temp.path())
            .await
            .map_err(io(temp.path()))?;
        Ok(Upload {
            file,
            temp,
            size: 0,
        })
    }

    /// Appends `chunk`.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.file
            .write_all(chunk)
            .await
            .map_err(io(self.temp.path()))?;
        self.size += chunk.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The whole file, written.
    pub async fn finish(mut self) -> Result<Received> {
        self.file.flush().await.map_err(io(self.temp.path()))?;
        drop(self.file);
        Ok(Received {
            temp: self.temp,
            size: self.size,
        })
    }
}

/// A file received whole (an upload, or bytes the server has), to be
/// read once and dropped.
#[derive(Debug)]
pub struct Received {
    temp: TempFile,
    size: u64,
}

impl Received {
    pub(super) fn new(temp: TempFile, size: u64) -> Received {
        Received { temp, size }
    }

    pub(super) fn path(&self) -> &Path {
        self.temp.path()
    }

    /// Its size in bytes, as received.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Reads it in whatever format it is (`ingest::read_file`: CSV,
    /// compressed CSV, Excel, JSON Lines, Parquet, Arrow IPC), `name` being
    /// the client's file name; files made on the way sit beside it.
    pub fn read(
        &self,
        name: &str,
        options: &ingest::ReadOptions,
        sheet: Option<String>,
    ) -> Result<ingest::Ingested> {
        let file = ingest::FileOptions {
            sheet,
            scratch: self.temp.path().parent().map(Path::to_path_buf),
        };
        Ok(ingest::read_file(self.temp.path(), name, options, &file)?)
    }

    /// What it is, from its first bytes (and `name`).
    pub fn format(&self, name: &str) -> Result<ingest::Format> {
        Ok(ingest::detect(self.temp.path(), name)?)
    }
}

/// A file being written on a blocking thread through [`Write`], then
/// saved by a `Store` method (or dropped, and removed).
#[derive(Debug)]
pub struct NewFile {
    out: BufWriter<fs::File>,
    temp: TempFile,
}

impl NewFile {
    pub(super) fn create(temp: TempFile) -> Result<NewFile> {
        let file = fs::File::create(temp.path()).map_err(io(temp.path()))?;
        Ok(NewFile {
            out: BufWriter::new(file),
            temp,
        })
    }

    /// The written file, flushed (and synced when persisted).
    pub(super) fn finish(self) -> Result<TempFile> {
        let NewFile { out, temp } = self;
        out.into_inner().map_err(|e| StorageError::Io {
            path: temp.path().to_owned(),
            source: e.into_error(),
        })?;
        Ok(temp)
    }
}

impl Write for NewFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
