//! Extremely randomised trees: the forest family of `forest.rs` with one
//! random boundary per drawn feature and every row in every tree.

use super::forest::{ForestFamily, Trees};

pub(crate) static FAMILY: ForestFamily = ForestFamily { extra: true };

pub type ExtraTreesFit = Trees<true>;
