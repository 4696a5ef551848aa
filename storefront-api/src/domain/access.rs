//! Who may do what among staff: each role's permissions. Every `/api/v1/admin` operation
//! names the one permission it needs in its OpenAPI security scope, and the gate in front of
//! the admin routes (`auth::AdminGate`) checks the caller's role against it.

use std::collections::BTreeSet;

pub use storefront_client::account::{Permission, Role};
use storefront_client::staff::team::{NewStaffMember, StaffMemberPatch};

use super::{
    FieldError,
    account::{Email, MAX_FULL_NAME, NewPassword},
    text,
};

/// The permissions of a role.
pub trait RolePermissions: Copy {
    fn permissions(self) -> &'static [Permission];

    fn may(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }
}

impl RolePermissions for Role {
    fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Self::Customer => &[],
            Self::Admin => &Permission::ALL,
            Self::Staff => &[
                Dashboard, Catalog, Orders, Refunds, Customers, Churn, Campaigns, Audit,
            ],
            Self::CatalogManager => &[Dashboard, Catalog],
            Self::Fulfilment => &[Dashboard, Orders],
            Self::Support => &[Dashboard, Orders, Refunds, Customers],
            Self::Marketing => &[Dashboard, Campaigns, Churn],
            Self::Analyst => &[Dashboard, Churn],
        }
    }
}

/// A new staff account, checked.
#[derive(Debug)]
pub struct NewStaff {
    pub email: Email,
    pub full_name: String,
    pub role: Role,
    pub password: NewPassword,
}

impl NewStaff {
    pub fn parse(draft: &NewStaffMember) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let email = Email::parse(&draft.email)
            .map_err(|message| errors.push(FieldError::new("email", message)))
            .ok();
        let full_name = text::line(&draft.full_name, MAX_FULL_NAME)
            .map_err(|message| errors.push(FieldError::new("full_name", message)))
            .ok();
        if let Err(message) = staff_role(draft.role) {
            errors.push(FieldError::new("role", message));
        }
        let password = email.as_ref().and_then(|email| {
            NewPassword::parse(&draft.password, email)
                .map_err(|message| errors.push(FieldError::new("password", message)))
                .ok()
        });
        match (email, full_name, password) {
            (Some(email), Some(full_name), Some(password)) if errors.is_empty() => Ok(Self {
                email,
                full_name,
                role: draft.role,
                password,
            }),
            _ => Err(errors),
        }
    }
}

/// A change to a staff account, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffChange {
    pub role: Option<Role>,
    pub full_name: Option<String>,
    pub disabled: Option<bool>,
}

impl StaffChange {
    pub fn parse(patch: &StaffMemberPatch) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        if let Some(Err(message)) = patch.role.map(staff_role) {
            errors.push(FieldError::new("role", message));
        }
        let full_name = match patch
            .full_name
            .as_deref()
            .map(|name| text::line(name, MAX_FULL_NAME))
        {
            Some(Err(message)) => {
                errors.push(FieldError::new("full_name", message));
                None
            }
            Some(Ok(name)) => Some(name),
            None => None,
        };
        if patch.role.is_none() && patch.full_name.is_none() && patch.disabled.is_none() {
            errors.push(FieldError::new(
                "role",
                "give a role, a full_name or disabled",
            ));
        }
        if errors.is_empty() {
            Ok(Self {
                role: patch.role,
                full_name,
                disabled: patch.disabled,
            })
        } else {
            Err(errors)
        }
    }
}

fn staff_role(role: Role) -> Result<(), String> {
    if role.is_staff() {
        Ok(())
    } else {
        Err("must be a staff role; customers register in the shop".into())
    }
}

/// The roles that may do `permission`, for error details and docs.
pub fn roles_with(permission: Permission) -> BTreeSet<&'static str> {
    Role::ALL
        .into_iter()
        .filter(|role| role.may(permission))
        .map(Role::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_accounts_are_checked_field_by_field() {
        let draft = NewStaffMember {
            email: "not an email".into(),
            full_name: "Ada\u{7}".into(),
            role: Role::Customer,
            password: "correct horse battery".into(),
        };
        let fields: Vec<String> = NewStaff::parse(&draft)
            .unwrap_err()
            .into_iter()
            .map(|error| error.field)
            .collect();
        assert_eq!(fields, ["email", "full_name", "role"]);
        let empty = StaffChange::parse(&StaffMemberPatch::default()).unwrap_err();
        assert_eq!(empty[0].field, "role");
        let rename = StaffChange::parse(&StaffMemberPatch {
            full_name: Some(" Ada Lovelace ".into()),
            ..StaffMemberPatch::default()
        })
        .unwrap();
        assert_eq!(rename.full_name.as_deref(), Some("Ada Lovelace"));
    }

    #[test]
    fn only_admins_manage_staff_and_customers_may_do_nothing() {
        assert_eq!(
            roles_with(Permission::StaffManagement),
            BTreeSet::from(["admin"])
        );
        assert!(Role::Customer.permissions().is_empty());
        for permission in Permission::ALL {
            assert!(Role::Admin.may(permission), "{permission:?}");
        }
    }

    #[test]
    fn narrow_roles_lack_what_is_not_their_job() {
        assert!(!Role::Fulfilment.may(Permission::Refunds));
        assert!(!Role::Fulfilment.may(Permission::Customers));
        assert!(!Role::Analyst.may(Permission::Customers));
        assert!(!Role::CatalogManager.may(Permission::Orders));
        assert!(Role::Support.may(Permission::Refunds));
        // Every staff role sees the dashboard, so every console opens on something.
        for role in Role::ALL.into_iter().filter(|role| role.is_staff()) {
            assert!(role.may(Permission::Dashboard), "{role:?}");
        }
    }
}
