//! The seams between the application layer and the adapter: the traits
//! `aws/` implements for `app/` and the answer types `aws/` takes, kept below
//! both so that `aws/` imports nothing from `app/`.
//!
//! Plain types and trait declarations only: no I/O, no SDK types, no logic.

use zeroize::Zeroizing;

use crate::domain::facts::FactError;

/// The seed AWS returns in `Base32StringSeed` (base32 text).
pub type Seed = Zeroizing<String>;

/// What the enroll flow needs from AWS; the adapter implements it.
#[allow(async_fn_in_trait)]
pub trait MfaApi {
    /// Whether the IAM user exists.
    async fn user_exists(&self, user: &str) -> Result<bool, FactError>;
    /// Creates a virtual device: (serial number, base32 seed).
    async fn create_device(&self, name: &str) -> Result<(String, Seed), FactError>;
    async fn enable(
        &self,
        user: &str,
        serial: &str,
        code1: &str,
        code2: &str,
    ) -> Result<(), FactError>;
    async fn delete_device(&self, serial: &str) -> Result<(), FactError>;
}

/// The SECURITY alternate contact as the person typed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactAnswer {
    pub name: String,
    pub title: String,
    pub email: String,
    pub phone: String,
}

/// The account's contact information as the person typed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactInfoAnswer {
    pub full_name: String,
    pub address_line1: String,
    pub city: String,
    pub postal_code: String,
    pub country_code: String,
    pub phone: String,
}
