//! Who may do what among staff: each role's permissions. Every `/api/v1/admin` operation
//! names the one permission it needs in its OpenAPI security scope, and the gate in front of
//! the admin routes (`auth::AdminGate`) checks the caller's role against it.

use std::collections::BTreeSet;

pub use storefront_client::account::{Permission, Role};

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
