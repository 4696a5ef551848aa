//! The staff console's commands as the window (wasm32) and the console (native) both compile
//! them. Each command is one struct — its arguments — with one [`Command::Answer`]; the window
//! sends it as a [`Request`] through the single Tauri command [`TAURI_COMMAND`], and
//! `staff-console` serves it. A renamed argument or a changed answer therefore fails to
//! compile on the other side instead of failing in the window at run time.
//!
//! - `error.rs`: [`ConsoleError`], what went wrong in words for staff, and
//!   [`CommandError`], its form on the wire.
//! - One module per screen for the types only the console uses: `session`, `catalog`,
//!   `orders`, `customers`, `churn`, `campaigns`, `promotions`.

pub mod campaigns;
pub mod catalog;
pub mod churn;
pub mod customers;
mod error;
pub mod orders;
pub mod promotions;
pub mod segments;
pub mod session;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use storefront_client::catalog::{Product, ProductStatus, StockMovement};
use storefront_client::returns::ReturnStatus;
use storefront_client::staff::campaigns::{
    AudiencePreview, Campaign, CampaignDetail, CampaignList, CampaignStatus, ScoringRunList,
};
use storefront_client::staff::catalog::{ProductDraft, ProductPatch, StaffProductList};
use storefront_client::staff::catalog_import::ImportReport;
use storefront_client::staff::churn::{JobEnvelope, ModelList, RegisteredModel};
use storefront_client::staff::customers::{CustomerEmail, CustomerList};
use storefront_client::staff::dashboard::Dashboard;
use storefront_client::staff::orders::StaffOrderList;
use storefront_client::staff::promotions::{PromotionList, StaffPromotion};
use storefront_client::staff::returns::StaffReturnList;
use storefront_client::staff::segments::{MembersAdded, Segment, SegmentList, SegmentMemberList};
use storefront_client::staff::webhooks::{
    DeliveryStatus, WebhookDelivery, WebhookDeliveryPage, WebhookEndpoint, WebhookEndpointList,
    WebhookEndpointWithSecret,
};
use uuid::Uuid;

pub use error::{CommandError, ConsoleError, ErrorKind};

use campaigns::CampaignForm;
use catalog::{CategoryChoice, ExportedFile, NewVariant, VariantEdit};
use churn::{TrainedRunView, TrainingOptions};
use customers::CustomerView;
use orders::{OrderAction, OrderFilter, OrderView};
use promotions::PromotionForm;
use session::{Session, Settings};

/// The one Tauri command; its single argument is `request`.
pub const TAURI_COMMAND: &str = "console";

/// The event carrying each [`churn::TrainingStep`] of a running training.
pub const TRAINING_PROGRESS: &str = "training-progress";

/// A console command: its fields are the arguments.
pub trait Command: Serialize + DeserializeOwned {
    type Answer: Serialize + DeserializeOwned;

    fn into_request(self) -> Request;
}

macro_rules! commands {
    ($( $(#[$doc:meta])* $command:ident -> $answer:ty; )*) => {
        /// Every command, as the window sends it: `{"command": "find_orders", "args": {…}}`.
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[serde(tag = "command", content = "args", rename_all = "snake_case")]
        pub enum Request {
            $( $(#[$doc])* $command($command), )*
        }

        $(
            impl Command for $command {
                type Answer = $answer;

                fn into_request(self) -> Request {
                    Request::$command(self)
                }
            }
        )*
    };
}

commands! {
    /// The remembered settings (the API's address).
    GetSettings -> Settings;
    /// Who is logged in, if anyone.
    GetSession -> Option<Session>;
    LogIn -> Session;
    LogOut -> ();
    GetDashboard -> Dashboard;
    FindProducts -> StaffProductList;
    GetProduct -> Product;
    /// Every category, named by its path, for the product forms.
    ListCategories -> Vec<CategoryChoice>;
    CreateProduct -> Product;
    UpdateProduct -> Product;
    ArchiveProduct -> Product;
    AddVariant -> Product;
    EditVariant -> Product;
    SetPrice -> Product;
    /// The currencies the shop sells in, its default market's first.
    ListCurrencies -> Vec<String>;
    AdjustStock -> StockMovement;
    /// The reasons staff may give for a stock change.
    ListStockReasons -> Vec<String>;
    GetStockHistory -> Vec<StockMovement>;
    FindOrders -> StaffOrderList;
    GetOrder -> OrderView;
    ActOnOrder -> OrderView;
    /// Returns by status, newest first (`requested`: the queue to answer).
    FindReturns -> StaffReturnList;
    FindCustomers -> CustomerList;
    GetCustomer -> CustomerView;
    /// Sends a customer's sent, dead or skipped email again.
    ResendCustomerEmail -> CustomerEmail;
    /// Trains on the shop's current data, reporting [`TRAINING_PROGRESS`]; one at a time.
    Train -> TrainedRunView;
    CancelTraining -> ();
    GetLastRun -> Option<TrainedRunView>;
    /// Uploads the last run's chosen model and, with `activate`, puts it in use.
    DeployLastRun -> RegisteredModel;
    ListModels -> ModelList;
    ActivateModel -> RegisteredModel;
    RollBackModel -> RegisteredModel;
    ScoreAll -> JobEnvelope;
    GetScoreJob -> JobEnvelope;
    /// The latest whole-shop scoring runs (staff's and the schedule's) and the schedule.
    ListScoringRuns -> ScoringRunList;
    ListWebhooks -> WebhookEndpointList;
    /// The topics an endpoint can subscribe to.
    ListWebhookTopics -> Vec<String>;
    /// Registers an endpoint; the answer's secret is shown once.
    CreateWebhook -> WebhookEndpointWithSecret;
    /// Pauses an endpoint, or resumes it (what waited is sent then).
    SetWebhookEnabled -> WebhookEndpoint;
    GetWebhookDeliveries -> WebhookDeliveryPage;
    /// Sends a delivered or dead message again, with its id.
    ReplayWebhookDelivery -> WebhookDelivery;
    ListCampaigns -> CampaignList;
    /// Who the form's campaign would reach today and the smallest uplift it could detect.
    PreviewCampaign -> AudiencePreview;
    /// Launches the form's campaign: who qualifies now is enrolled at once.
    LaunchCampaign -> Campaign;
    /// A campaign with its results as of now.
    GetCampaign -> CampaignDetail;
    /// Pauses, resumes (`running`) or ends a campaign.
    SetCampaignStatus -> Campaign;
    /// Customer groups and segments, by name (a campaign's audience may be one).
    ListSegments -> SegmentList;
    /// Creates the form's group (staff add its members) or segment (its rule decides).
    CreateSegment -> Segment;
    /// A group's or segment's members now, a page at a time.
    GetSegmentMembers -> SegmentMemberList;
    /// Adds a customer to a static group.
    AddToGroup -> MembersAdded;
    /// Takes a customer out of a static group.
    RemoveFromGroup -> ();
    /// Writes a group's or segment's members to a CSV file.
    ExportSegmentFile -> ExportedFile;
    /// Every promotion, newest first, with what it used of its budget.
    ListPromotions -> PromotionList;
    /// Creates the form's promotion; it runs at once.
    CreatePromotion -> StaffPromotion;
    /// Pauses or resumes a promotion.
    SetPromotionActive -> StaffPromotion;
    /// Checks a CSV file against the catalog: what importing it would do, and every problem
    /// by line and column. Changes nothing.
    CheckCatalogFile -> ImportReport;
    /// Imports a CSV file whole — or nothing, when it has a problem.
    ImportCatalogFile -> ImportReport;
    /// Writes the whole catalog to a CSV file, in the import's format.
    ExportCatalogFile -> ExportedFile;
}

/// A CSV file on this computer (`~/` is the home folder).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckCatalogFile {
    pub path: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCatalogFile {
    pub path: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportCatalogFile {
    pub path: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListPromotions {}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListSegments {}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateSegment {
    pub form: segments::SegmentForm,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetSegmentMembers {
    pub id: Uuid,
    pub page: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddToGroup {
    pub id: Uuid,
    pub account_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveFromGroup {
    pub id: Uuid,
    pub account_id: Uuid,
}

/// A CSV file on this computer (`~/` is the home folder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSegmentFile {
    pub id: Uuid,
    pub path: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatePromotion {
    pub form: PromotionForm,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetPromotionActive {
    pub id: Uuid,
    pub active: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetSettings {}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetSession {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogIn {
    pub api_address: String,
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogOut {}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetDashboard {}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindProducts {
    pub text: Option<String>,
    pub status: Option<ProductStatus>,
    pub page: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetProduct {
    pub id: Uuid,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListCategories {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateProduct {
    pub draft: ProductDraft,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateProduct {
    pub id: Uuid,
    pub patch: ProductPatch,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveProduct {
    pub id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddVariant {
    pub product_id: Uuid,
    pub variant: NewVariant,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditVariant {
    pub variant_id: Uuid,
    pub edit: VariantEdit,
}

/// A variant's price as typed (`24.90`) in `currency` (the product's own when absent);
/// `compare_at` is the "was" price: empty removes it, absent leaves it. In another market's
/// currency, an empty price takes the variant off sale in that market.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetPrice {
    pub product_id: Uuid,
    pub variant_id: Uuid,
    #[serde(default)]
    pub currency: Option<String>,
    pub price: String,
    pub compare_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustStock {
    pub variant_id: Uuid,
    /// Units added (positive) or taken (negative).
    pub delta: i32,
    /// One of [`catalog::STOCK_REASONS`].
    pub reason: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListStockReasons {}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListCurrencies {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetStockHistory {
    pub variant_id: Uuid,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindOrders {
    pub filter: OrderFilter,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetOrder {
    pub id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActOnOrder {
    pub id: Uuid,
    pub action: OrderAction,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindReturns {
    pub status: Option<ReturnStatus>,
    pub page: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindCustomers {
    /// Part of an email or a name; `None` lists everyone.
    pub text: Option<String>,
    pub page: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetCustomer {
    pub id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResendCustomerEmail {
    pub customer_id: Uuid,
    pub email_id: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Train {
    pub options: TrainingOptions,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelTraining {}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetLastRun {}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployLastRun {
    pub activate: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListModels {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivateModel {
    pub version: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollBackModel {}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreAll {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetScoreJob {
    pub id: Uuid,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListScoringRuns {}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListWebhooks {}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListWebhookTopics {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateWebhook {
    pub url: String,
    pub topics: Vec<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetWebhookEnabled {
    pub id: Uuid,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetWebhookDeliveries {
    pub id: Uuid,
    /// Only deliveries in this state.
    pub status: Option<DeliveryStatus>,
    pub page: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayWebhookDelivery {
    pub id: Uuid,
    pub delivery_id: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListCampaigns {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewCampaign {
    pub form: CampaignForm,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchCampaign {
    pub form: CampaignForm,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetCampaign {
    pub id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetCampaignStatus {
    pub id: Uuid,
    pub status: CampaignStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_its_command_and_carries_its_arguments() {
        let request = GetOrder { id: Uuid::nil() }.into_request();
        let wire = serde_json::to_value(&request).unwrap();
        assert_eq!(wire["command"], "get_order");
        assert_eq!(wire["args"]["id"], Uuid::nil().to_string());
        let back: Request = serde_json::from_value(wire).unwrap();
        assert!(matches!(back, Request::GetOrder(GetOrder { id }) if id.is_nil()));
    }

    #[test]
    fn a_command_without_arguments_travels_as_an_empty_object() {
        let wire = serde_json::to_value(LogOut {}.into_request()).unwrap();
        assert_eq!(wire, serde_json::json!({"command": "log_out", "args": {}}));
        let unknown = serde_json::from_value::<Request>(
            serde_json::json!({"command": "drop_tables", "args": {}}),
        );
        assert!(unknown.is_err());
    }
}
