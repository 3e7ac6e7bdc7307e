//! Datasets: the record (summary, profile, notes), the Parquet file, the
//! recipe versions (`recipes (dataset_id, version, doc)`; version 0 is the
//! implicit empty recipe) and the prepared columns of each version
//! (`prepared_columns`, what a build request is checked against).

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{
    Listed, Result, StorageError, Store, from_json, is_valid_id, remove_if_present, to_json,
};
use crate::plan::PreparedColumns;
use data::{DataFrame, ingest};

impl Store {
    /// Stores a new dataset: `frame` as its Parquet file, then its record
    /// and the prepared columns of its recipe version 0.
    pub fn create_dataset(
        &self,
        detail: &api::DatasetDetail,
        frame: &mut DataFrame,
        prepared: &PreparedColumns,
    ) -> Result<()> {
        let s = &detail.summary;
        let what = format!("dataset {}", s.id);
        let (summary, profile, notes, columns) = (
            to_json(&what, s)?,
            to_json(&what, &detail.profile)?,
            to_json(&what, &detail.notes)?,
            to_json(&what, prepared)?,
        );
        let temp = self.temp();
        ingest::write_parquet(frame, temp.path())?;
        let path = self.file("datasets", &s.id, "parquet");
        self.persist(temp, &path)?;
        let insert = || -> Result<()> {
            let mut conn = self.conn()?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT INTO datasets (id, created, summary, profile, notes) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![s.id, s.created, summary, profile, notes],
            )?;
            tx.execute(
                "INSERT OR REPLACE INTO prepared_columns (dataset_id, version, doc) VALUES (?1, 0, ?2)",
                params![s.id, columns],
            )?;
            tx.commit()?;
            Ok(())
        };
        insert().inspect_err(|_| {
            let _ = remove_if_present(path);
        })
    }

    pub fn list_datasets(&self) -> Result<Listed<api::DatasetSummary>> {
        self.docs(
            "dataset",
            "SELECT id, summary FROM datasets ORDER BY created DESC, id",
        )
    }

    pub fn dataset(&self, id: &str) -> Result<api::DatasetDetail> {
        let not_found = || StorageError::NotFound(format!("dataset {id}"));
        if !is_valid_id(id) {
            return Err(not_found());
        }
        let row: Option<(String, String, String)> = self
            .conn()?
            .query_row(
                "SELECT summary, profile, notes FROM datasets WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let (summary, profile, notes) = row.ok_or_else(not_found)?;
        Ok(api::DatasetDetail {
            summary: from_json("dataset", id, &summary)?,
            profile: from_json("dataset", id, &profile)?,
            notes: from_json("dataset", id, &notes)?,
        })
    }

    /// The dataset's profile alone.
    pub fn profile(&self, id: &str) -> Result<api::Profile> {
        self.doc("dataset", "SELECT profile FROM datasets WHERE id = ?1", id)
    }

    /// Not found unless the dataset exists; reads nothing but its key.
    pub fn require_dataset(&self, id: &str) -> Result<()> {
        if self.exists("SELECT 1 FROM datasets WHERE id = ?1", id)? {
            Ok(())
        } else {
            Err(StorageError::NotFound(format!("dataset {id}")))
        }
    }

    /// The dataset's rows, as stored.
    pub fn dataset_frame(&self, id: &str) -> Result<DataFrame> {
        self.require_dataset(id)?;
        Ok(ingest::read_parquet(&self.file("datasets", id, "parquet"))?)
    }

    /// Deletes the dataset's record, recipes and file. Builds and models made from it stay.
    pub fn delete_dataset(&self, id: &str) -> Result<()> {
        let not_found = || StorageError::NotFound(format!("dataset {id}"));
        if !is_valid_id(id) {
            return Err(not_found());
        }
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute("DELETE FROM datasets WHERE id = ?1", [id])?;
        tx.execute("DELETE FROM recipes WHERE dataset_id = ?1", [id])?;
        tx.execute("DELETE FROM prepared_columns WHERE dataset_id = ?1", [id])?;
        tx.commit()?;
        drop(conn);
        if n == 0 {
            return Err(not_found());
        }
        remove_if_present(self.file("datasets", id, "parquet"))
    }

    // Recipes.

    /// Version `version` of the dataset's recipe, or the latest when `None`.
    /// Version 0, the empty recipe, always exists.
    pub fn recipe(&self, dataset_id: &str, version: Option<u32>) -> Result<api::RecipeVersion> {
        let conn = self.conn()?;
        recipe_in(&conn, dataset_id, version)
    }

    /// Saves `recipe` as the dataset's next version, unless it equals the
    /// latest, with the columns it prepares.
    pub fn save_recipe(
        &self,
        dataset_id: &str,
        recipe: &api::Recipe,
        created: &str,
        prepared: &PreparedColumns,
    ) -> Result<api::RecipeVersion> {
        let mut conn = self.conn()?;
        // Read and write in one transaction: two requests saving at once
        // make two versions, never one number twice.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let latest = recipe_in(&tx, dataset_id, None)?;
        let is_new = &latest.recipe != recipe;
        let saved = if !is_new {
            latest
        } else {
            api::RecipeVersion {
                dataset_id: dataset_id.to_owned(),
                version: latest.version + 1,
                created: created.to_owned(),
                recipe: recipe.clone(),
            }
        };
        let what = format!(
            "version {} of the recipe of dataset {dataset_id}",
            saved.version
        );
        let (doc, columns) = (to_json(&what, recipe)?, to_json(&what, prepared)?);
        if is_new {
            tx.execute(
                "INSERT INTO recipes (dataset_id, version, created, doc) VALUES (?1, ?2, ?3, ?4)",
                params![dataset_id, saved.version, saved.created, doc],
            )?;
        }
        tx.execute(
            "INSERT OR REPLACE INTO prepared_columns (dataset_id, version, doc) VALUES (?1, ?2, ?3)",
            params![dataset_id, saved.version, columns],
        )?;
        tx.commit()?;
        Ok(saved)
    }

    /// The prepared columns of a recipe version, when they were stored
    /// (versions saved before they were kept have none).
    pub fn prepared_columns(
        &self,
        dataset_id: &str,
        version: u32,
    ) -> Result<Option<PreparedColumns>> {
        let doc: Option<String> = self
            .conn()?
            .query_row(
                "SELECT doc FROM prepared_columns WHERE dataset_id = ?1 AND version = ?2",
                params![dataset_id, version],
                |r| r.get(0),
            )
            .optional()?;
        doc.map(|d| from_json("prepared columns of dataset", dataset_id, &d))
            .transpose()
    }

    /// Keeps the prepared columns of a recipe version.
    pub fn save_prepared_columns(
        &self,
        dataset_id: &str,
        version: u32,
        prepared: &PreparedColumns,
    ) -> Result<()> {
        let doc = to_json(
            &format!("the prepared columns of dataset {dataset_id}"),
            prepared,
        )?;
        self.conn()?.execute(
            "INSERT OR REPLACE INTO prepared_columns (dataset_id, version, doc) VALUES (?1, ?2, ?3)",
            params![dataset_id, version, doc],
        )?;
        Ok(())
    }
}

/// Version `version` of the dataset's recipe (the latest when `None`), read on `conn`.
fn recipe_in(
    conn: &Connection,
    dataset_id: &str,
    version: Option<u32>,
) -> Result<api::RecipeVersion> {
    let not_found = || StorageError::NotFound(format!("dataset {dataset_id}"));
    if !is_valid_id(dataset_id) {
        return Err(not_found());
    }
    let created: Option<String> = conn
        .query_row(
            "SELECT created FROM datasets WHERE id = ?1",
            [dataset_id],
            |r| r.get(0),
        )
        .optional()?;
    let empty = api::RecipeVersion {
        dataset_id: dataset_id.to_owned(),
        version: 0,
        created: created.ok_or_else(not_found)?,
        recipe: api::Recipe::default(),
    };
    if version == Some(0) {
        return Ok(empty);
    }
    let row: Option<(u32, String, String)> = conn
        .query_row(
            "SELECT version, created, doc FROM recipes WHERE dataset_id = ?1
             AND (?2 IS NULL OR version = ?2) ORDER BY version DESC LIMIT 1",
            params![dataset_id, version],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    match (row, version) {
        (Some((version, created, doc)), _) => Ok(api::RecipeVersion {
            dataset_id: dataset_id.to_owned(),
            version,
            created,
            recipe: from_json(
                &format!("recipe version {version} of dataset"),
                dataset_id,
                &doc,
            )?,
        }),
        (None, None) => Ok(empty),
        (None, Some(v)) => Err(StorageError::NotFound(format!(
            "version {v} of the recipe of dataset {dataset_id}"
        ))),
    }
}
