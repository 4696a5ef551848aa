//! The frame: navigation, who is logged in, keyboard shortcuts, and the current screen.

use leptos::prelude::*;

use console_protocol::session::Session;
use console_protocol::{Command, GetSession, LogOut};
use storefront_client::account::Permission;

use crate::invoke::call;
use crate::screens::{
    campaigns::CampaignsScreen, catalog::CatalogScreen, churn::ChurnScreen,
    customers::CustomersScreen, dashboard::DashboardScreen, login::LoginScreen,
    orders::OrdersScreen, promotions::PromotionsScreen, webhooks::WebhooksScreen,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Dashboard,
    Catalog,
    Orders,
    Customers,
    Churn,
    Campaigns,
    Promotions,
    Webhooks,
}

impl Screen {
    const ALL: [Self; 8] = [
        Self::Dashboard,
        Self::Catalog,
        Self::Orders,
        Self::Customers,
        Self::Churn,
        Self::Campaigns,
        Self::Promotions,
        Self::Webhooks,
    ];

    /// The permission the screen's data needs: without it the API refuses every call the
    /// screen makes, so the screen is not offered.
    fn permission(self) -> Permission {
        match self {
            Self::Dashboard => Permission::Dashboard,
            Self::Catalog => Permission::Catalog,
            Self::Orders => Permission::Orders,
            Self::Customers => Permission::Customers,
            Self::Churn => Permission::Churn,
            Self::Campaigns => Permission::Campaigns,
            Self::Promotions => Permission::Campaigns,
            Self::Webhooks => Permission::Integrations,
        }
    }

    /// The screens `session`'s role may use, in the navigation's order.
    pub fn open_to(session: &Session) -> Vec<Self> {
        Self::ALL
            .into_iter()
            .filter(|screen| session.permissions.contains(&screen.permission()))
            .collect()
    }

    fn title(self) -> &'static str {
        match self {
            Self::Dashboard => "Dashboard",
            Self::Catalog => "Catalog",
            Self::Orders => "Orders",
            Self::Customers => "Customers",
            Self::Churn => "Churn",
            Self::Campaigns => "Campaigns",
            Self::Promotions => "Promotions",
            Self::Webhooks => "Webhooks",
        }
    }
}

/// What every screen can reach: the current screen and the session.
#[derive(Clone, Copy)]
pub struct Frame {
    pub screen: RwSignal<Screen>,
    pub session: RwSignal<Option<Session>>,
    /// A customer whose orders the orders screen should open with (their email).
    pub orders_of: RwSignal<Option<String>>,
}

impl Frame {
    /// A command said the session is over: back to the login screen.
    /// Opens the orders screen on one customer's orders.
    pub fn show_orders_of(&self, email: String) {
        self.orders_of.set(Some(email));
        self.screen.set(Screen::Orders);
    }

    pub fn check(&self, error: &crate::invoke::CommandError) {
        if error.session_over() {
            self.session.set(None);
        }
    }

    /// Runs `command` and hands its answer to `done`, or shows the refusal in `error`.
    pub fn run<C: Command + 'static>(
        self,
        command: C,
        error: RwSignal<Option<crate::invoke::CommandError>>,
        done: impl FnOnce(C::Answer) + 'static,
    ) {
        error.set(None);
        leptos::task::spawn_local(async move {
            match call(command).await {
                Ok(answer) => done(answer),
                Err(e) => {
                    self.check(&e);
                    error.set(Some(e));
                }
            }
        });
    }
}

#[component]
pub fn App() -> impl IntoView {
    let frame = Frame {
        screen: RwSignal::new(Screen::Dashboard),
        session: RwSignal::new(None),
        orders_of: RwSignal::new(None),
    };
    provide_context(frame);
    // A reloaded window keeps the console's session.
    leptos::task::spawn_local(async move {
        if let Ok(Some(session)) = call(GetSession {}).await {
            frame.session.set(Some(session));
        }
    });
    // Ctrl+1, Ctrl+2… switch to the first, second… screen the role may use.
    let _ = window_event_listener(leptos::ev::keydown, move |ev| {
        let open = frame
            .session
            .with_untracked(|session| session.as_ref().map(Screen::open_to))
            .unwrap_or_default();
        if ev.ctrl_key()
            && let Some(digit) = ev.key().chars().next().and_then(|c| c.to_digit(10))
            && let Some(screen) = open.get((digit as usize).wrapping_sub(1))
        {
            ev.prevent_default();
            frame.screen.set(*screen);
        }
    });
    view! {
        {move || match frame.session.get() {
            None => view! { <LoginScreen/> }.into_any(),
            Some(session) => view! { <Shell session/> }.into_any(),
        }}
    }
}

#[component]
fn Shell(session: Session) -> impl IntoView {
    let frame = expect_context::<Frame>();
    let open = Screen::open_to(&session);
    // The screen the previous login left open may be one this role cannot use.
    if !open.contains(&frame.screen.get_untracked()) {
        frame
            .screen
            .set(open.first().copied().unwrap_or(Screen::Dashboard));
    }
    let log_out = move |_| {
        leptos::task::spawn_local(async move {
            let _ = call(LogOut {}).await;
            frame.session.set(None);
        });
    };
    view! {
        <div class="shell">
            <nav class="side" aria-label="Screens">
                <div class="brand">"Nexus Console"</div>
                {open.into_iter().enumerate().map(|(i, screen)| view! {
                    <button
                        id=format!("nav-{}", screen.title().to_lowercase())
                        aria-current=move || (frame.screen.get() == screen).then_some("page")
                        title=format!("Ctrl+{}", i + 1)
                        on:click=move |_| frame.screen.set(screen)
                    >{screen.title()}</button>
                }).collect_view()}
                <div class="who">
                    <div>{session.account.full_name.clone()}</div>
                    <div>{session.api_address.clone()}</div>
                    <button class="secondary" id="log-out" on:click=log_out>"Log out"</button>
                </div>
            </nav>
            <main id="screen">
                {move || match frame.screen.get() {
                    Screen::Dashboard => view! { <DashboardScreen/> }.into_any(),
                    Screen::Catalog => view! { <CatalogScreen/> }.into_any(),
                    Screen::Orders => view! { <OrdersScreen/> }.into_any(),
                    Screen::Customers => view! { <CustomersScreen/> }.into_any(),
                    Screen::Churn => view! { <ChurnScreen/> }.into_any(),
                    Screen::Campaigns => view! { <CampaignsScreen/> }.into_any(),
                    Screen::Promotions => view! { <PromotionsScreen/> }.into_any(),
                    Screen::Webhooks => view! { <WebhooksScreen/> }.into_any(),
                }}
            </main>
        </div>
    }
}
