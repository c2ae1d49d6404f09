//! Shared fixtures of the integration tests: a data directory, an applicant file, a material
//! image and the argument lists of `case submit`.
#![allow(dead_code)]

pub mod sim;

use std::path::{Path, PathBuf};

/// A small real JPEG, standing for a photographed material.
pub const IMAGE: &[u8] = include_bytes!("../data/material.jpg");

/// An ID number with a valid GB 11643 check digit, as a string.
pub fn id_number(first17: &str) -> String {
    ykb_terminal::core::domain::IdNumber::complete(first17)
        .unwrap()
        .expose()
        .to_owned()
}

/// A data directory with an applicant file and an image, for the demo profile.
pub struct Fixture {
    dir: tempfile::TempDir,
    pub applicant: PathBuf,
    pub image: PathBuf,
    pub id_number: String,
    pub matter: String,
    pub material: String,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let id_number = id_number("50010319500307123");
        let applicant = dir.path().join("applicant.json");
        std::fs::write(
            &applicant,
            format!(r#"{{"name": "王䶮", "id_number": "{id_number}", "address": "重庆市渝中区解放碑街道民族路188号"}}"#),
        )
        .unwrap();
        let image = dir.path().join("material.jpg");
        std::fs::write(&image, IMAGE).unwrap();
        let catalog = ykb_terminal::core::catalog::Catalog::demo().unwrap();
        let m = catalog.matters.iter().find(|m| m.self_service).unwrap();
        Fixture {
            matter: m.task_code.to_string(),
            material: m.materials[0].id.clone(),
            dir,
            applicant,
            image,
            id_number,
        }
    }

    /// The data directory (the store and key live in `data/` below it).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Arguments of `--data-dir DIR case submit … --count N` with one image.
    pub fn submit_args(&self, count: u32) -> Vec<String> {
        vec![
            "--data-dir".into(),
            self.dir().display().to_string(),
            "case".into(),
            "submit".into(),
            "--matter".into(),
            self.matter.clone(),
            "--applicant".into(),
            self.applicant.display().to_string(),
            "--count".into(),
            count.to_string(),
            "--image".into(),
            format!("{}={}", self.material, self.image.display()),
        ]
    }
}

/// A case for the first self-service matter of the catalogue, with one captured image.
pub fn new_case(
    core: &ykb_terminal::core::Core,
    name: &str,
    first17: &str,
    address: &str,
) -> ykb_terminal::core::outbox::NewCase {
    use ykb_terminal::core::domain::{Applicant, IdNumber, Person};
    let m = core
        .catalog
        .matters
        .iter()
        .find(|m| m.self_service)
        .unwrap();
    ykb_terminal::core::outbox::NewCase {
        matters: vec![m.task_code.clone()],
        bundle: None,
        catalog_version: core.catalog.version,
        applicant: Applicant::Person {
            person: Person {
                name: name.into(),
                id_number: IdNumber::complete(first17).unwrap(),
                address: address.into(),
            },
        },
        answers: Default::default(),
        materials: Vec::new(),
        form: [("f_phone".to_owned(), "13800000000".to_owned())].into(),
        images: vec![(m.materials[0].id.clone(), IMAGE.to_vec())],
    }
}
