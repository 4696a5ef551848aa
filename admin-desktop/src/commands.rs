//! Tauri commands: each forwards to one `staff-console` function. Arguments arrive in
//! snake_case, results and `ConsoleError`s leave as JSON.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use churn_lab::training::Progress;
use serde::Serialize;
use staff_console::catalog::{CategoryChoice, NewVariant, VariantEdit};
use staff_console::churn::{TrainedRun, TrainingOptions};
use staff_console::customers::CustomerView;
use staff_console::orders::{OrderAction, OrderFilter, OrderView};
use staff_console::{Console, ConsoleError, Session, Settings};
use storefront_client::catalog::{Product, ProductStatus, StockMovement};
use storefront_client::staff::catalog::{ProductDraft, ProductPatch, StaffProductList};
use storefront_client::staff::churn::{JobEnvelope, ModelList, RegisteredModel};
use storefront_client::staff::customers::CustomerList;
use storefront_client::staff::dashboard::Dashboard;
use storefront_client::staff::orders::StaffOrderList;
use tauri::{AppHandle, Emitter, State};
use uuid::Uuid;

type Shared<'a> = State<'a, Arc<Console>>;
type Answer<T> = Result<T, ConsoleError>;

#[tauri::command(rename_all = "snake_case")]
pub fn settings(console: Shared<'_>) -> Settings {
    console.settings()
}

#[tauri::command(rename_all = "snake_case")]
pub fn session(console: Shared<'_>) -> Option<Session> {
    console.session()
}

#[tauri::command(rename_all = "snake_case")]
pub async fn log_in(
    console: Shared<'_>,
    api_address: String,
    email: String,
    password: String,
) -> Answer<Session> {
    console.log_in(&api_address, &email, &password).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn log_out(console: Shared<'_>) -> Answer<()> {
    console.log_out().await;
    Ok(())
}

#[tauri::command(rename_all = "snake_case")]
pub async fn dashboard(console: Shared<'_>) -> Answer<Dashboard> {
    console.dashboard().await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn products(
    console: Shared<'_>,
    text: Option<String>,
    status: Option<ProductStatus>,
    page: i64,
) -> Answer<StaffProductList> {
    console.products(text.as_deref(), status, page).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn product(console: Shared<'_>, id: Uuid) -> Answer<Product> {
    console.product(id).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn categories(console: Shared<'_>) -> Answer<Vec<CategoryChoice>> {
    console.categories().await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn create_product(console: Shared<'_>, draft: ProductDraft) -> Answer<Product> {
    console.create_product(draft).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn add_variant(
    console: Shared<'_>,
    product_id: Uuid,
    variant: NewVariant,
) -> Answer<Product> {
    console.add_variant(product_id, variant).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn edit_variant(
    console: Shared<'_>,
    variant_id: Uuid,
    edit: VariantEdit,
) -> Answer<Product> {
    console.edit_variant(variant_id, edit).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_price(
    console: Shared<'_>,
    product_id: Uuid,
    variant_id: Uuid,
    price: String,
    compare_at: Option<String>,
) -> Answer<Product> {
    console
        .set_price(product_id, variant_id, &price, compare_at.as_deref())
        .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn update_product(console: Shared<'_>, id: Uuid, patch: ProductPatch) -> Answer<Product> {
    console.update_product(id, patch).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn archive_product(console: Shared<'_>, id: Uuid) -> Answer<Product> {
    console.archive_product(id).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn adjust_stock(
    console: Shared<'_>,
    variant_id: Uuid,
    delta: i32,
    reason: String,
    note: Option<String>,
) -> Answer<StockMovement> {
    console
        .adjust_stock(variant_id, delta, &reason, note.as_deref())
        .await
}

/// The reasons staff may give for a stock change.
#[tauri::command(rename_all = "snake_case")]
pub fn stock_reasons() -> Vec<&'static str> {
    staff_console::catalog::STOCK_REASONS.to_vec()
}

#[tauri::command(rename_all = "snake_case")]
pub async fn stock_history(console: Shared<'_>, variant_id: Uuid) -> Answer<Vec<StockMovement>> {
    console.stock_history(variant_id).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn find_orders(console: Shared<'_>, filter: OrderFilter) -> Answer<StaffOrderList> {
    console.find_orders(filter).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn order(console: Shared<'_>, id: Uuid) -> Answer<OrderView> {
    console.order(id).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn act_on_order(console: Shared<'_>, id: Uuid, action: OrderAction) -> Answer<OrderView> {
    console.act_on_order(id, action).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn customers(
    console: Shared<'_>,
    text: Option<String>,
    page: i64,
) -> Answer<CustomerList> {
    console.customers(text.as_deref(), page).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn customer(console: Shared<'_>, id: Uuid) -> Answer<CustomerView> {
    console.customer(id).await
}

/// The running training's stop flag (one training at a time).
#[derive(Default)]
pub struct Training {
    running: Arc<AtomicBool>,
    cancel: Arc<AtomicBool>,
}

/// One step of a training run, sent to the window as the `training-progress` event.
#[derive(Clone, Serialize)]
struct Step {
    task: String,
    steps: u64,
    done: u64,
    message: String,
}

/// Forwards churn-lab's progress to the window and hands it the cancel flag.
struct WindowProgress {
    app: AppHandle,
    cancel: Arc<AtomicBool>,
    current: std::sync::Mutex<Step>,
}

impl WindowProgress {
    fn send(&self, update: impl FnOnce(&mut Step)) {
        let step = {
            let mut current = self
                .current
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            update(&mut current);
            current.clone()
        };
        let _ = self.app.emit("training-progress", step);
    }
}

impl Progress for WindowProgress {
    fn begin(&self, task: &str, steps: u64) {
        self.send(|s| {
            *s = Step {
                task: task.to_owned(),
                steps,
                done: 0,
                message: String::new(),
            }
        });
    }
    fn advance(&self, message: &str) {
        self.send(|s| {
            s.done += 1;
            s.message = message.to_owned();
        });
    }
    fn end(&self) {
        self.send(|s| s.done = s.steps);
    }
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }
}

#[tauri::command(rename_all = "snake_case")]
pub async fn train(
    app: AppHandle,
    console: Shared<'_>,
    training: State<'_, Training>,
    options: TrainingOptions,
) -> Answer<TrainedRun> {
    if training.running.swap(true, Ordering::SeqCst) {
        return Err(ConsoleError::invalid(
            "training",
            "a training run is already going",
        ));
    }
    training.cancel.store(false, Ordering::SeqCst);
    let progress = Arc::new(WindowProgress {
        app,
        cancel: training.cancel.clone(),
        current: std::sync::Mutex::new(Step {
            task: String::new(),
            steps: 0,
            done: 0,
            message: String::new(),
        }),
    });
    let outcome = console.train(options, progress).await;
    training.running.store(false, Ordering::SeqCst);
    outcome
}

#[tauri::command(rename_all = "snake_case")]
pub fn cancel_training(training: State<'_, Training>) {
    training.cancel.store(true, Ordering::SeqCst);
}

#[tauri::command(rename_all = "snake_case")]
pub fn last_run(console: Shared<'_>) -> Option<TrainedRun> {
    console.last_run()
}

#[tauri::command(rename_all = "snake_case")]
pub async fn deploy_last_run(console: Shared<'_>, activate: bool) -> Answer<RegisteredModel> {
    console.deploy_last_run(activate).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn models(console: Shared<'_>) -> Answer<ModelList> {
    console.models().await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn activate_model(console: Shared<'_>, version: String) -> Answer<RegisteredModel> {
    console.activate_model(&version).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn roll_back_model(console: Shared<'_>) -> Answer<RegisteredModel> {
    console.roll_back_model().await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn score_all(console: Shared<'_>) -> Answer<JobEnvelope> {
    console.score_all().await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn score_job(console: Shared<'_>, id: Uuid) -> Answer<JobEnvelope> {
    console.score_job(id).await
}
