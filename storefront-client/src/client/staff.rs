//! The staff side of the API (`/api/v1/admin`): a client made with a staff session's token
//! (`Client::with_token`) calls these.

use reqwest::Method;
use uuid::Uuid;

use super::{Client, ClientError};
use crate::catalog::StockMovement;
use crate::catalog::{Product, ProductEnvelope};
use crate::staff::campaigns::{
    AudiencePreview, AudiencePreviewEnvelope, Campaign, CampaignDetail, CampaignDraft,
    CampaignEnvelope, CampaignList, CampaignPatch, CampaignStatus, ScoringRunList,
};
use crate::staff::catalog::{
    MovementEnvelope, MovementList, PriceDraft, ProductDraft, ProductPatch, StaffListParams,
    StaffProductList, StockAdjustment, VariantDraft, VariantPatch,
};
use crate::staff::catalog_import::{ImportEnvelope, ImportParams, ImportReport};
use crate::staff::churn::{
    ChurnDataset, ChurnEnvelope, CustomerChurn, JobEnvelope, ModelEnvelope, ModelList,
    RegisteredModel,
};
use crate::staff::customers::{
    CustomerDetail, CustomerEmail, CustomerEmailEnvelope, CustomerEmailList, CustomerEmailParams,
    CustomerEnvelope, CustomerList, CustomerParams,
};
use crate::staff::dashboard::Dashboard;
use crate::staff::orders::{
    NoteRequest, RefundRequest, StaffOrder, StaffOrderEnvelope, StaffOrderList,
    StaffOrderListParams, TransitionRequest,
};
use crate::staff::promotions::{
    PromotionDraft, PromotionEnvelope, PromotionList, PromotionPatch, StaffPromotion,
};
use crate::staff::returns::{
    ReceiveReturnRequest, RefundReturnRequest, RefuseReturnRequest, StaffReturnEnvelope,
    StaffReturnList, StaffReturnListParams,
};
use crate::staff::segments::{
    MembersAdded, NewMembers, Segment, SegmentDraft, SegmentEnvelope, SegmentList,
    SegmentMemberList, SegmentMemberParams,
};
use crate::staff::webhooks::{
    DeliveryQuery, NewWebhookEndpoint, WebhookDelivery, WebhookDeliveryEnvelope,
    WebhookDeliveryPage, WebhookEndpoint, WebhookEndpointEnvelope, WebhookEndpointList,
    WebhookEndpointPatch, WebhookEndpointWithSecret, WebhookTopics,
};
use crate::staff::{AuditLog, AuditQuery};

impl Client {
    /// `GET /admin/dashboard`.
    pub async fn dashboard(&self) -> Result<Dashboard, ClientError> {
        self.get("/admin/dashboard", &()).await
    }

    /// `GET /admin/products`: drafts and archived included.
    pub async fn staff_products(
        &self,
        params: &StaffListParams,
    ) -> Result<StaffProductList, ClientError> {
        self.get("/admin/products", params).await
    }

    /// `GET /admin/products/{id}`.
    pub async fn staff_product(&self, id: Uuid) -> Result<Product, ClientError> {
        let envelope: ProductEnvelope = self.get(&format!("/admin/products/{id}"), &()).await?;
        Ok(envelope.product)
    }

    /// `POST /admin/products`: a new draft product.
    pub async fn create_product(&self, draft: &ProductDraft) -> Result<Product, ClientError> {
        let envelope: ProductEnvelope = self
            .send_json(Method::POST, "/admin/products", draft)
            .await?;
        Ok(envelope.product)
    }

    /// `PATCH /admin/products/{id}`.
    pub async fn update_product(
        &self,
        id: Uuid,
        patch: &ProductPatch,
    ) -> Result<Product, ClientError> {
        let envelope: ProductEnvelope = self
            .send_json(Method::PATCH, &format!("/admin/products/{id}"), patch)
            .await?;
        Ok(envelope.product)
    }

    /// `POST /admin/products/{id}/archive`.
    pub async fn archive_product(&self, id: Uuid) -> Result<Product, ClientError> {
        let envelope: ProductEnvelope = self
            .send(self.request(Method::POST, &format!("/admin/products/{id}/archive")))
            .await?;
        Ok(envelope.product)
    }

    /// `POST /admin/products/{id}/variants`: the product with its new variant.
    pub async fn create_variant(
        &self,
        product_id: Uuid,
        draft: &VariantDraft,
    ) -> Result<Product, ClientError> {
        let envelope: ProductEnvelope = self
            .send_json(
                Method::POST,
                &format!("/admin/products/{product_id}/variants"),
                draft,
            )
            .await?;
        Ok(envelope.product)
    }

    /// `PATCH /admin/variants/{id}`: price, compare-at price, SKU, title, status.
    pub async fn update_variant(
        &self,
        id: Uuid,
        patch: &VariantPatch,
    ) -> Result<Product, ClientError> {
        let envelope: ProductEnvelope = self
            .send_json(Method::PATCH, &format!("/admin/variants/{id}"), patch)
            .await?;
        Ok(envelope.product)
    }

    /// `PUT /admin/variants/{id}/prices/{currency}`: the variant's price in `currency` (its
    /// product's own or another market's).
    pub async fn set_variant_price(
        &self,
        id: Uuid,
        currency: &str,
        price: &PriceDraft,
    ) -> Result<Product, ClientError> {
        let envelope: ProductEnvelope = self
            .send_json(
                Method::PUT,
                &format!("/admin/variants/{id}/prices/{currency}"),
                price,
            )
            .await?;
        Ok(envelope.product)
    }

    /// `DELETE /admin/variants/{id}/prices/{currency}`: the variant is no longer sold in that
    /// market's currency (its product's own cannot be removed).
    pub async fn remove_variant_price(
        &self,
        id: Uuid,
        currency: &str,
    ) -> Result<Product, ClientError> {
        let envelope: ProductEnvelope = self
            .send(self.request(
                Method::DELETE,
                &format!("/admin/variants/{id}/prices/{currency}"),
            ))
            .await?;
        Ok(envelope.product)
    }

    /// `POST /admin/variants/{id}/stock-adjustments`.
    pub async fn adjust_stock(
        &self,
        variant_id: Uuid,
        adjustment: &StockAdjustment,
    ) -> Result<StockMovement, ClientError> {
        let envelope: MovementEnvelope = self
            .send_json(
                Method::POST,
                &format!("/admin/variants/{variant_id}/stock-adjustments"),
                adjustment,
            )
            .await?;
        Ok(envelope.movement)
    }

    /// `POST /admin/catalog/import`: sends a CSV file. A dry run reports what the import
    /// would do and every problem; an import of a file with problems is refused whole (422
    /// `import_invalid`, the problems in the error's `details.problems`).
    pub async fn import_catalog(
        &self,
        csv: Vec<u8>,
        dry_run: bool,
    ) -> Result<ImportReport, ClientError> {
        let envelope: ImportEnvelope = self
            .send(
                self.request(Method::POST, "/admin/catalog/import")
                    .query(&ImportParams { dry_run })
                    .header(reqwest::header::CONTENT_TYPE, "text/csv")
                    .body(csv),
            )
            .await?;
        Ok(envelope.import)
    }

    /// `GET /admin/segments`: customer groups and segments, by name.
    pub async fn segments(&self) -> Result<SegmentList, ClientError> {
        self.get("/admin/segments", &()).await
    }

    /// `POST /admin/segments`: a static group (no rule) or a dynamic segment.
    pub async fn create_segment(&self, draft: &SegmentDraft) -> Result<Segment, ClientError> {
        let envelope: SegmentEnvelope = self
            .send_json(Method::POST, "/admin/segments", draft)
            .await?;
        Ok(envelope.segment)
    }

    /// `GET /admin/segments/{id}/members`: the members now, a page at a time.
    pub async fn segment_members(
        &self,
        id: Uuid,
        params: &SegmentMemberParams,
    ) -> Result<SegmentMemberList, ClientError> {
        self.get(&format!("/admin/segments/{id}/members"), params)
            .await
    }

    /// `POST /admin/segments/{id}/members`: customers added to a static group.
    pub async fn add_segment_members(
        &self,
        id: Uuid,
        new: &NewMembers,
    ) -> Result<MembersAdded, ClientError> {
        self.send_json(Method::POST, &format!("/admin/segments/{id}/members"), new)
            .await
    }

    /// `DELETE /admin/segments/{id}/members/{account_id}`.
    pub async fn remove_segment_member(
        &self,
        id: Uuid,
        account_id: Uuid,
    ) -> Result<(), ClientError> {
        self.send_empty(self.request(
            Method::DELETE,
            &format!("/admin/segments/{id}/members/{account_id}"),
        ))
        .await
    }

    /// `GET /admin/segments/{id}/members.csv`: every member as CSV.
    pub async fn export_segment(&self, id: Uuid) -> Result<Vec<u8>, ClientError> {
        let (_, csv) = self
            .send_raw(self.request(Method::GET, &format!("/admin/segments/{id}/members.csv")))
            .await?;
        Ok(csv)
    }

    /// `GET /admin/catalog/export`: the whole catalog as CSV, in the import's format.
    pub async fn export_catalog(&self) -> Result<Vec<u8>, ClientError> {
        let (_, csv) = self
            .send_raw(self.request(Method::GET, "/admin/catalog/export"))
            .await?;
        Ok(csv)
    }

    /// `GET /admin/variants/{id}/stock-adjustments`: the stock ledger, newest first.
    pub async fn stock_movements(
        &self,
        variant_id: Uuid,
    ) -> Result<Vec<StockMovement>, ClientError> {
        let list: MovementList = self
            .get(
                &format!("/admin/variants/{variant_id}/stock-adjustments"),
                &(),
            )
            .await?;
        Ok(list.movements)
    }

    /// `GET /admin/orders`.
    pub async fn staff_orders(
        &self,
        params: &StaffOrderListParams,
    ) -> Result<StaffOrderList, ClientError> {
        self.get("/admin/orders", params).await
    }

    /// `GET /admin/orders/{id}`: with payments, notes and the audit trail.
    pub async fn staff_order(&self, id: Uuid) -> Result<StaffOrder, ClientError> {
        let envelope: StaffOrderEnvelope = self.get(&format!("/admin/orders/{id}"), &()).await?;
        Ok(envelope.order)
    }

    /// `POST /admin/orders/{id}/transitions`: fulfil, ship, deliver or cancel.
    pub async fn transition_order(
        &self,
        id: Uuid,
        request: &TransitionRequest,
    ) -> Result<StaffOrder, ClientError> {
        let envelope: StaffOrderEnvelope = self
            .send_json(
                Method::POST,
                &format!("/admin/orders/{id}/transitions"),
                request,
            )
            .await?;
        Ok(envelope.order)
    }

    /// `POST /admin/orders/{id}/refunds`.
    pub async fn refund_order(
        &self,
        id: Uuid,
        request: &RefundRequest,
    ) -> Result<StaffOrder, ClientError> {
        let envelope: StaffOrderEnvelope = self
            .send_json(
                Method::POST,
                &format!("/admin/orders/{id}/refunds"),
                request,
            )
            .await?;
        Ok(envelope.order)
    }

    /// `GET /admin/promotions`: every promotion, newest first.
    pub async fn promotions(&self) -> Result<PromotionList, ClientError> {
        self.get("/admin/promotions", &()).await
    }

    /// `POST /admin/promotions`.
    pub async fn create_promotion(
        &self,
        draft: &PromotionDraft,
    ) -> Result<StaffPromotion, ClientError> {
        let envelope: PromotionEnvelope = self
            .send_json(Method::POST, "/admin/promotions", draft)
            .await?;
        Ok(envelope.promotion)
    }

    /// `PATCH /admin/promotions/{id}`: pauses or resumes it.
    pub async fn set_promotion_active(
        &self,
        id: Uuid,
        active: bool,
    ) -> Result<StaffPromotion, ClientError> {
        let envelope: PromotionEnvelope = self
            .send_json(
                Method::PATCH,
                &format!("/admin/promotions/{id}"),
                &PromotionPatch { active },
            )
            .await?;
        Ok(envelope.promotion)
    }

    /// `GET /admin/returns`: the returns queue.
    pub async fn staff_returns(
        &self,
        params: &StaffReturnListParams,
    ) -> Result<StaffReturnList, ClientError> {
        self.get("/admin/returns", params).await
    }

    /// `GET /admin/returns/{id}`: a return with its order.
    pub async fn staff_return(&self, id: Uuid) -> Result<StaffReturnEnvelope, ClientError> {
        self.get(&format!("/admin/returns/{id}"), &()).await
    }

    /// `POST /admin/returns/{id}/approve`.
    pub async fn approve_return(&self, id: Uuid) -> Result<StaffReturnEnvelope, ClientError> {
        self.send_json(
            Method::POST,
            &format!("/admin/returns/{id}/approve"),
            &serde_json::json!({}),
        )
        .await
    }

    /// `POST /admin/returns/{id}/refuse`.
    pub async fn refuse_return(
        &self,
        id: Uuid,
        request: &RefuseReturnRequest,
    ) -> Result<StaffReturnEnvelope, ClientError> {
        self.send_json(
            Method::POST,
            &format!("/admin/returns/{id}/refuse"),
            request,
        )
        .await
    }

    /// `POST /admin/returns/{id}/receive`.
    pub async fn receive_return(
        &self,
        id: Uuid,
        request: &ReceiveReturnRequest,
    ) -> Result<StaffReturnEnvelope, ClientError> {
        self.send_json(
            Method::POST,
            &format!("/admin/returns/{id}/receive"),
            request,
        )
        .await
    }

    /// `POST /admin/returns/{id}/refund`.
    pub async fn refund_return(
        &self,
        id: Uuid,
        request: &RefundReturnRequest,
    ) -> Result<StaffReturnEnvelope, ClientError> {
        self.send_json(
            Method::POST,
            &format!("/admin/returns/{id}/refund"),
            request,
        )
        .await
    }

    /// `POST /admin/orders/{id}/notes`.
    pub async fn add_order_note(
        &self,
        id: Uuid,
        note: &NoteRequest,
    ) -> Result<StaffOrder, ClientError> {
        let envelope: StaffOrderEnvelope = self
            .send_json(Method::POST, &format!("/admin/orders/{id}/notes"), note)
            .await?;
        Ok(envelope.order)
    }

    /// `GET /admin/customers`.
    pub async fn customers(&self, params: &CustomerParams) -> Result<CustomerList, ClientError> {
        self.get("/admin/customers", params).await
    }

    /// `GET /admin/customers/{id}`.
    pub async fn customer(&self, id: Uuid) -> Result<CustomerDetail, ClientError> {
        let envelope: CustomerEnvelope = self.get(&format!("/admin/customers/{id}"), &()).await?;
        Ok(envelope.customer)
    }

    /// `GET /admin/customers/{id}/emails`: what the shop sent the customer, newest first.
    pub async fn customer_emails(
        &self,
        id: Uuid,
        params: &CustomerEmailParams,
    ) -> Result<CustomerEmailList, ClientError> {
        self.get(&format!("/admin/customers/{id}/emails"), params)
            .await
    }

    /// `POST /admin/customers/{id}/emails/{email_id}/resend`.
    pub async fn resend_customer_email(
        &self,
        id: Uuid,
        email_id: i64,
    ) -> Result<CustomerEmail, ClientError> {
        let path = format!("/admin/customers/{id}/emails/{email_id}/resend");
        let envelope: CustomerEmailEnvelope = self.send(self.request(Method::POST, &path)).await?;
        Ok(envelope.email)
    }

    /// `GET /admin/customers/{id}/churn`: probability, band and the reasons, by the active
    /// model.
    pub async fn customer_churn(&self, id: Uuid) -> Result<CustomerChurn, ClientError> {
        let envelope: ChurnEnvelope = self
            .get(&format!("/admin/customers/{id}/churn"), &())
            .await?;
        Ok(envelope.churn)
    }

    /// `GET /admin/churn/models`: the registry, newest upload first.
    pub async fn churn_models(&self) -> Result<ModelList, ClientError> {
        self.get("/admin/churn/models", &()).await
    }

    /// `POST /admin/churn/models`: uploads a churn-lab artifact (`model.json`'s bytes).
    pub async fn upload_model(
        &self,
        artifact_json: Vec<u8>,
    ) -> Result<RegisteredModel, ClientError> {
        let envelope: ModelEnvelope = self
            .send(
                self.request(Method::POST, "/admin/churn/models")
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(artifact_json),
            )
            .await?;
        Ok(envelope.model)
    }

    /// `POST /admin/churn/models/{version}/activate`: every API instance scores with it now.
    pub async fn activate_model(&self, version: &str) -> Result<RegisteredModel, ClientError> {
        let envelope: ModelEnvelope = self
            .send(self.request(
                Method::POST,
                &format!(
                    "/admin/churn/models/{}/activate",
                    super::path_segment(version)
                ),
            ))
            .await?;
        Ok(envelope.model)
    }

    /// `POST /admin/churn/rollback`: back to the model active before the latest activation.
    pub async fn roll_back_model(&self) -> Result<RegisteredModel, ClientError> {
        let envelope: ModelEnvelope = self
            .send(self.request(Method::POST, "/admin/churn/rollback"))
            .await?;
        Ok(envelope.model)
    }

    /// `POST /admin/churn/score-all`: starts scoring every customer.
    pub async fn start_score_all(&self) -> Result<JobEnvelope, ClientError> {
        self.send(self.request(Method::POST, "/admin/churn/score-all"))
            .await
    }

    /// `GET /admin/churn/jobs/{id}`.
    pub async fn score_job(&self, id: Uuid) -> Result<JobEnvelope, ClientError> {
        self.get(&format!("/admin/churn/jobs/{id}"), &()).await
    }

    /// `GET /admin/churn/runs`: the latest whole-shop scoring runs (staff's and the
    /// schedule's), newest first, and the schedule.
    pub async fn scoring_runs(&self) -> Result<ScoringRunList, ClientError> {
        self.get("/admin/churn/runs", &()).await
    }

    /// `GET /admin/churn/dataset`: the shop's orders and events as churn-lab reads them.
    pub async fn churn_dataset(&self) -> Result<ChurnDataset, ClientError> {
        self.get("/admin/churn/dataset", &()).await
    }

    /// `GET /admin/campaigns`: newest first, each with how many it treated and held out.
    pub async fn campaigns(&self) -> Result<CampaignList, ClientError> {
        self.get("/admin/campaigns", &()).await
    }

    /// `POST /admin/campaigns/preview`: who the draft would reach today, launching nothing.
    pub async fn preview_campaign(
        &self,
        draft: &CampaignDraft,
    ) -> Result<AudiencePreview, ClientError> {
        let envelope: AudiencePreviewEnvelope = self
            .send_json(Method::POST, "/admin/campaigns/preview", draft)
            .await?;
        Ok(envelope.preview)
    }

    /// `POST /admin/campaigns`: launches the campaign and enrols who qualifies now.
    pub async fn launch_campaign(&self, draft: &CampaignDraft) -> Result<Campaign, ClientError> {
        let envelope: CampaignEnvelope = self
            .send_json(Method::POST, "/admin/campaigns", draft)
            .await?;
        Ok(envelope.campaign)
    }

    /// `GET /admin/campaigns/{id}`: the campaign with its results as of now.
    pub async fn campaign(&self, id: Uuid) -> Result<CampaignDetail, ClientError> {
        self.get(&format!("/admin/campaigns/{id}"), &()).await
    }

    /// `PATCH /admin/campaigns/{id}`: pause (`paused`), resume (`running`) or end (`ended`).
    pub async fn set_campaign_status(
        &self,
        id: Uuid,
        status: CampaignStatus,
    ) -> Result<Campaign, ClientError> {
        let envelope: CampaignEnvelope = self
            .send_json(
                Method::PATCH,
                &format!("/admin/campaigns/{id}"),
                &CampaignPatch { status },
            )
            .await?;
        Ok(envelope.campaign)
    }

    /// `GET /admin/audit-log`.
    pub async fn audit_log(&self, query: &AuditQuery) -> Result<AuditLog, ClientError> {
        self.get("/admin/audit-log", query).await
    }

    /// `GET /admin/webhooks`.
    pub async fn webhook_endpoints(&self) -> Result<WebhookEndpointList, ClientError> {
        self.get("/admin/webhooks", &()).await
    }

    /// `GET /admin/webhooks/topics`.
    pub async fn webhook_topics(&self) -> Result<Vec<String>, ClientError> {
        let topics: WebhookTopics = self.get("/admin/webhooks/topics", &()).await?;
        Ok(topics.topics)
    }

    /// `POST /admin/webhooks`: the answer holds the signing secret, shown this once.
    pub async fn create_webhook_endpoint(
        &self,
        endpoint: &NewWebhookEndpoint,
    ) -> Result<WebhookEndpointWithSecret, ClientError> {
        self.send_json(Method::POST, "/admin/webhooks", endpoint)
            .await
    }

    /// `PATCH /admin/webhooks/{id}`.
    pub async fn change_webhook_endpoint(
        &self,
        id: Uuid,
        patch: &WebhookEndpointPatch,
    ) -> Result<WebhookEndpoint, ClientError> {
        let envelope: WebhookEndpointEnvelope = self
            .send_json(Method::PATCH, &format!("/admin/webhooks/{id}"), patch)
            .await?;
        Ok(envelope.webhook_endpoint)
    }

    /// `GET /admin/webhooks/{id}/deliveries`: the delivery log, newest first.
    pub async fn webhook_deliveries(
        &self,
        id: Uuid,
        query: &DeliveryQuery,
    ) -> Result<WebhookDeliveryPage, ClientError> {
        self.get(&format!("/admin/webhooks/{id}/deliveries"), query)
            .await
    }

    /// `POST /admin/webhooks/{id}/deliveries/{delivery_id}/replay`.
    pub async fn replay_webhook_delivery(
        &self,
        id: Uuid,
        delivery_id: i64,
    ) -> Result<WebhookDelivery, ClientError> {
        let path = format!("/admin/webhooks/{id}/deliveries/{delivery_id}/replay");
        let envelope: WebhookDeliveryEnvelope =
            self.send(self.request(Method::POST, &path)).await?;
        Ok(envelope.delivery)
    }
}
