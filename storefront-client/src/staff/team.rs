//! Staff accounts, managed by those with the `staff_management` permission: who works in the
//! console, with which role, and whether they still may.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::account::{Account, Permission, Role};
use crate::lists::CountMeta;

/// One staff account with what its role lets it do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffMember {
    #[serde(flatten)]
    pub account: Account,
    /// The role's permissions, for the console to show.
    pub permissions: Vec<Permission>,
    /// Set when the account was disabled: it can no longer log in.
    pub disabled_at: Option<DateTime<Utc>>,
}

/// `GET /api/v1/admin/staff`: every staff account, admins first, then by email.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffList {
    pub staff: Vec<StaffMember>,
    pub meta: CountMeta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffMemberEnvelope {
    pub staff_member: StaffMember,
}

/// `POST /api/v1/admin/staff`: a new staff account with its first password (the person
/// changes it after logging in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewStaffMember {
    pub email: String,
    pub full_name: String,
    /// Any role but `customer`.
    pub role: Role,
    pub password: String,
}

/// `PATCH /api/v1/admin/staff/{id}`: change the role or name, or disable the account (its
/// sessions end at once; a role change ends them too, so the new role applies now).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StaffMemberPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// `true` disables the account, `false` enables it again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}
