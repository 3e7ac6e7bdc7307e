//! The stored form of a dataset: the typed frame written to and read from
//! Parquet.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use super::{IngestError, polars_message};

/// Writes the frame as Parquet to `path`.
pub fn write_parquet(frame: &mut DataFrame, path: &Path) -> Result<(), IngestError> {
    let file = File::create(path)?;
    ParquetWriter::new(file)
        .finish(frame)
        .map_err(|e| IngestError::Parse(polars_message(&e)))?;
    Ok(())
}

/// Reads a frame written by [`write_parquet`].
pub fn read_parquet(path: &Path) -> Result<DataFrame, IngestError> {
    let file = File::open(path)?;
    ParquetReader::new(file)
        .finish()
        .map_err(|e| IngestError::Parse(polars_message(&e)))
}

#[cfg(test)]
mod tests {
    use super::super::tests::read;
    use super::*;

    #[test]
    fn parquet_round_trip() {
        let mut got = read(b"a,b\n1,x\n2,y\n").unwrap().frame;
        let p =
            std::env::temp_dir().join(format!("kiln-{}.parquet", uuid::Uuid::new_v4().simple()));
        write_parquet(&mut got, &p).unwrap();
        let back = read_parquet(&p).unwrap();
        assert!(back.equals_missing(&got));
        std::fs::remove_file(p).unwrap();
    }
}
