//! The window's requests served: the one place where a command (console-protocol) meets the
//! console function that does it.

use std::sync::Arc;

use console_protocol::churn::TrainingStep;
use console_protocol::{Command, Request};
use serde_json::Value;

use crate::catalog::STOCK_REASONS;
use crate::{Console, ConsoleError};

/// The answer of command `C` as JSON; `C` fixes the type, so an arm that answers with the
/// wrong one does not compile.
fn answer<C: Command>(answer: Result<C::Answer, ConsoleError>) -> Result<Value, ConsoleError> {
    serde_json::to_value(answer?)
        .map_err(|e| ConsoleError::Failed(format!("cannot send the answer to the window: {e}")))
}

impl Console {
    /// Serves one request of the window; training steps go to `report` as they happen.
    pub async fn serve(
        &self,
        request: Request,
        report: Arc<dyn Fn(&TrainingStep) + Send + Sync>,
    ) -> Result<Value, ConsoleError> {
        use console_protocol::*;
        match request {
            Request::GetSettings(_) => answer::<GetSettings>(Ok(self.settings())),
            Request::GetSession(_) => answer::<GetSession>(Ok(self.session())),
            Request::LogIn(c) => {
                answer::<LogIn>(self.log_in(&c.api_address, &c.email, &c.password).await)
            }
            Request::LogOut(_) => {
                self.log_out().await;
                answer::<LogOut>(Ok(()))
            }
            Request::GetDashboard(_) => answer::<GetDashboard>(self.dashboard().await),
            Request::FindProducts(c) => {
                answer::<FindProducts>(self.products(c.text.as_deref(), c.status, c.page).await)
            }
            Request::GetProduct(c) => answer::<GetProduct>(self.product(c.id).await),
            Request::ListCategories(_) => answer::<ListCategories>(self.categories().await),
            Request::CreateProduct(c) => {
                answer::<CreateProduct>(self.create_product(c.draft).await)
            }
            Request::UpdateProduct(c) => {
                answer::<UpdateProduct>(self.update_product(c.id, c.patch).await)
            }
            Request::ArchiveProduct(c) => {
                answer::<ArchiveProduct>(self.archive_product(c.id).await)
            }
            Request::AddVariant(c) => {
                answer::<AddVariant>(self.add_variant(c.product_id, c.variant).await)
            }
            Request::EditVariant(c) => {
                answer::<EditVariant>(self.edit_variant(c.variant_id, c.edit).await)
            }
            Request::SetPrice(c) => answer::<SetPrice>(
                self.set_price(
                    c.product_id,
                    c.variant_id,
                    c.currency.as_deref(),
                    &c.price,
                    c.compare_at.as_deref(),
                )
                .await,
            ),
            Request::ListCurrencies(_) => answer::<ListCurrencies>(self.currencies().await),
            Request::AdjustStock(c) => answer::<AdjustStock>(
                self.adjust_stock(c.variant_id, c.delta, &c.reason, c.note.as_deref())
                    .await,
            ),
            Request::ListStockReasons(_) => answer::<ListStockReasons>(Ok(STOCK_REASONS
                .iter()
                .map(|reason| (*reason).to_owned())
                .collect())),
            Request::GetStockHistory(c) => {
                answer::<GetStockHistory>(self.stock_history(c.variant_id).await)
            }
            Request::FindOrders(c) => answer::<FindOrders>(self.find_orders(c.filter).await),
            Request::GetOrder(c) => answer::<GetOrder>(self.order(c.id).await),
            Request::ActOnOrder(c) => answer::<ActOnOrder>(self.act_on_order(c.id, c.action).await),
            Request::FindReturns(c) => answer::<FindReturns>(self.returns(c.status, c.page).await),
            Request::FindCustomers(c) => {
                answer::<FindCustomers>(self.customers(c.text.as_deref(), c.page).await)
            }
            Request::GetCustomer(c) => answer::<GetCustomer>(self.customer(c.id).await),
            Request::ResendCustomerEmail(c) => answer::<ResendCustomerEmail>(
                self.resend_customer_email(c.customer_id, c.email_id).await,
            ),
            Request::Train(c) => answer::<Train>(
                self.train_reporting(c.options, report)
                    .await
                    .and_then(|run| run.view()),
            ),
            Request::CancelTraining(_) => {
                self.cancel_training();
                answer::<CancelTraining>(Ok(()))
            }
            Request::GetLastRun(_) => {
                answer::<GetLastRun>(self.last_run().map(|run| run.view()).transpose())
            }
            Request::DeployLastRun(c) => {
                answer::<DeployLastRun>(self.deploy_last_run(c.activate).await)
            }
            Request::ListModels(_) => answer::<ListModels>(self.models().await),
            Request::ActivateModel(c) => {
                answer::<ActivateModel>(self.activate_model(&c.version).await)
            }
            Request::RollBackModel(_) => answer::<RollBackModel>(self.roll_back_model().await),
            Request::ScoreAll(_) => answer::<ScoreAll>(self.score_all().await),
            Request::GetScoreJob(c) => answer::<GetScoreJob>(self.score_job(c.id).await),
            Request::ListScoringRuns(_) => answer::<ListScoringRuns>(self.scoring_runs().await),
            Request::ListWebhooks(_) => answer::<ListWebhooks>(self.webhooks().await),
            Request::ListWebhookTopics(_) => {
                answer::<ListWebhookTopics>(self.webhook_topics().await)
            }
            Request::CreateWebhook(c) => {
                answer::<CreateWebhook>(self.create_webhook(c.url, c.topics, c.description).await)
            }
            Request::SetWebhookEnabled(c) => {
                answer::<SetWebhookEnabled>(self.set_webhook_enabled(c.id, c.enabled).await)
            }
            Request::GetWebhookDeliveries(c) => answer::<GetWebhookDeliveries>(
                self.webhook_deliveries(c.id, c.status, c.page).await,
            ),
            Request::ReplayWebhookDelivery(c) => answer::<ReplayWebhookDelivery>(
                self.replay_webhook_delivery(c.id, c.delivery_id).await,
            ),
            Request::ListCampaigns(_) => answer::<ListCampaigns>(self.campaigns().await),
            Request::PreviewCampaign(c) => {
                answer::<PreviewCampaign>(self.preview_campaign(&c.form).await)
            }
            Request::LaunchCampaign(c) => {
                answer::<LaunchCampaign>(self.launch_campaign(&c.form).await)
            }
            Request::GetCampaign(c) => answer::<GetCampaign>(self.campaign(c.id).await),
            Request::SetCampaignStatus(c) => {
                answer::<SetCampaignStatus>(self.set_campaign_status(c.id, c.status).await)
            }
            Request::ListPromotions(_) => answer::<ListPromotions>(self.promotions().await),
            Request::ListSegments(_) => answer::<ListSegments>(self.segments().await),
            Request::CreateSegment(c) => {
                answer::<CreateSegment>(self.create_segment(&c.form).await)
            }
            Request::GetSegmentMembers(c) => {
                answer::<GetSegmentMembers>(self.segment_members(c.id, c.page).await)
            }
            Request::AddToGroup(c) => {
                answer::<AddToGroup>(self.add_to_group(c.id, c.account_id).await)
            }
            Request::RemoveFromGroup(c) => {
                answer::<RemoveFromGroup>(self.remove_from_group(c.id, c.account_id).await)
            }
            Request::ExportSegmentFile(c) => {
                answer::<ExportSegmentFile>(self.export_segment_file(c.id, &c.path).await)
            }
            Request::CreatePromotion(c) => {
                answer::<CreatePromotion>(self.create_promotion(&c.form).await)
            }
            Request::CheckCatalogFile(c) => {
                answer::<CheckCatalogFile>(self.import_catalog_file(&c.path, false).await)
            }
            Request::ImportCatalogFile(c) => {
                answer::<ImportCatalogFile>(self.import_catalog_file(&c.path, true).await)
            }
            Request::ExportCatalogFile(c) => {
                answer::<ExportCatalogFile>(self.export_catalog_file(&c.path).await)
            }
            Request::SetPromotionActive(c) => {
                answer::<SetPromotionActive>(self.set_promotion_active(c.id, c.active).await)
            }
        }
    }
}
