//! Customer groups and segments: listed, created from the form staff typed (a static group
//! or a dynamic segment with its rule), their members now, a customer added to or taken out
//! of a group, and the members written to a CSV file. Needs the `customers` permission
//! (admins and staff).

use storefront_client::staff::segments::{
    MembersAdded, NewMembers, Segment, SegmentList, SegmentMemberList, SegmentMemberParams,
};
use uuid::Uuid;

use crate::catalog::{csv_records, local_path, on_disk};
use crate::{Console, ConsoleError};

pub use console_protocol::catalog::ExportedFile;
pub use console_protocol::segments::SegmentForm;

/// Members shown on one page of a group.
const MEMBERS_PER_PAGE: i64 = 50;

impl Console {
    /// Customer groups and segments by name (also a campaign's possible audiences).
    pub async fn segments(&self) -> Result<SegmentList, ConsoleError> {
        self.call(|api| async move { api.segments().await }).await
    }

    /// Creates the typed group or segment.
    pub async fn create_segment(&self, form: &SegmentForm) -> Result<Segment, ConsoleError> {
        let draft = form.to_draft()?;
        self.call(|api| async move { api.create_segment(&draft).await })
            .await
    }

    /// A page of the members now (a dynamic segment is evaluated as asked).
    pub async fn segment_members(
        &self,
        id: Uuid,
        page: i64,
    ) -> Result<SegmentMemberList, ConsoleError> {
        let params = SegmentMemberParams {
            page: Some(page.max(1)),
            limit: Some(MEMBERS_PER_PAGE),
        };
        self.call(|api| async move { api.segment_members(id, &params).await })
            .await
    }

    pub async fn add_to_group(
        &self,
        id: Uuid,
        account_id: Uuid,
    ) -> Result<MembersAdded, ConsoleError> {
        let new = NewMembers {
            account_ids: vec![account_id],
        };
        self.call(|api| async move { api.add_segment_members(id, &new).await })
            .await
    }

    pub async fn remove_from_group(&self, id: Uuid, account_id: Uuid) -> Result<(), ConsoleError> {
        self.call(|api| async move { api.remove_segment_member(id, account_id).await })
            .await
    }

    /// Writes every member to `path` as CSV (the API's format: a header row, amounts in
    /// minor units).
    pub async fn export_segment_file(
        &self,
        id: Uuid,
        path: &str,
    ) -> Result<ExportedFile, ConsoleError> {
        let target = local_path(path)?;
        let csv = self
            .call(|api| async move { api.export_segment(id).await })
            .await?;
        let rows = csv_records(&csv).saturating_sub(1);
        let written = target.clone();
        on_disk(target, move |p| std::fs::write(p, &csv), "write").await?;
        Ok(ExportedFile {
            path: written.display().to_string(),
            rows,
        })
    }
}
