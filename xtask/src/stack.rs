//! The local stack's fixed addresses, environment defaults, managed processes and demo logins:
//! every constant that `up`, `down`, `test` and the summary share lives here.

/// Loopback host every local service binds to.
pub const HOST: &str = "127.0.0.1";
pub const POSTGRES_PORT: u16 = 5432;
pub const REDIS_PORT: u16 = 6379;
pub const MONGO_PORT: u16 = 27017;
pub const API_PORT: u16 = 8080;
/// `up --instances N`: the API instances take ports 8080 to 8080 + N - 1, and the gateway
/// serves HTTPS on 8443 (plain HTTP on 8088 redirects there).
pub const MAX_INSTANCES: usize = 8;
pub const GATEWAY_HTTP_PORT: u16 = 8088;
pub const GATEWAY_HTTPS_PORT: u16 = 8443;
pub const SHOP_PORT: u16 = 3000;
/// The local mail catcher: SMTP in, web inbox out.
pub const SMTP_PORT: u16 = 1025;
pub const MAIL_WEB_PORT: u16 = 1080;
/// The pinned mail catcher from npm, installed into `.nexus/tools/maildev`.
pub const MAILDEV_PACKAGE: &str = "maildev@3.0.0";

/// Superuser of the local PostgreSQL (trust auth).
pub const POSTGRES_USER: &str = "postgres";
/// Server URL without a database (the tests create their own databases).
pub const POSTGRES_SERVER_URL: &str = "postgres://postgres@127.0.0.1:5432";
pub const REDIS_URL: &str = "redis://127.0.0.1:6379";
pub const MONGO_URI: &str = "mongodb://127.0.0.1:27017";
/// storefront-api's default Redis key prefix (its `config/default.toml`).
pub const API_REDIS_PREFIX: &str = "nexus:";

/// The pinned MongoDB-wire server, installed into `.venv-mongo`.
pub const SECANTUSDB_REQUIREMENT: &str = "secantusdb==0.7.0b3";

/// Bounds for the polling loops.
pub const SERVICE_START_TIMEOUT_SECS: u64 = 30;
pub const API_READY_TIMEOUT_SECS: u64 = 60;
pub const SHOP_READY_TIMEOUT_SECS: u64 = 30;
pub const STOP_TIMEOUT_SECS: u64 = 15;
/// Lines of a log shown when something fails to start.
pub const LOG_TAIL_LINES: usize = 30;

/// Environment for the `storefront-api` subprocesses; each is set only when the user has not
/// set it already. The local stack is for development: its webhooks may go to receivers on
/// this machine over plain http (a deployment keeps the defaults: https, public addresses).
pub const API_ENV: [(&str, &str); 7] = [
    (
        "NEXUS_DATABASE__URL",
        "postgres://postgres@127.0.0.1:5432/nexus",
    ),
    ("NEXUS_REDIS__URL", REDIS_URL),
    ("NEXUS_MONGODB__URI", MONGO_URI),
    ("NEXUS_MONGODB__DATABASE", "nexus"),
    ("NEXUS_WEBHOOKS__ALLOW_HTTP", "true"),
    ("NEXUS_WEBHOOKS__ALLOW_PRIVATE_NETWORKS", "true"),
    ("NEXUS_SMTP__URL", "smtp://127.0.0.1:1025"),
];

/// Environment for the test suite (besides `NEXUS_TEST_SECANTUSD`, a path computed at run time);
/// each is set only when the user has not set it already. No MongoDB URI: each test process
/// starts a MongoDB-wire server of its own (`api_test_stack::mongo_uri`) unless the user sets
/// `NEXUS_TEST_MONGODB_URI`.
pub const TEST_ENV: [(&str, &str); 2] = [
    ("NEXUS_TEST_DATABASE_URL", POSTGRES_SERVER_URL),
    ("NEXUS_TEST_REDIS_URL", REDIS_URL),
];

/// A process that `up` or `test` may start, tracked by `.nexus/run/<name>.pid` and logging to
/// `.nexus/logs/<name>.log`.
#[derive(Debug, Clone, Copy)]
pub struct Managed {
    /// Stem of the pid and log files, and the name shown to the user.
    pub name: &'static str,
    /// A substring of the process's command line, checked before signalling a pid (guards
    /// against a recycled pid).
    pub cmdline_marker: &'static str,
}

pub const API: Managed = Managed {
    name: "storefront-api",
    cmdline_marker: "storefront-api",
};
/// The pid and log names of the API instances of `up --instances N` (the first is `API`).
pub const INSTANCE_NAMES: [&str; MAX_INSTANCES] = [
    "storefront-api",
    "storefront-api-2",
    "storefront-api-3",
    "storefront-api-4",
    "storefront-api-5",
    "storefront-api-6",
    "storefront-api-7",
    "storefront-api-8",
];
/// nginx's master process of `up --instances N` (its pid file is written by xtask, not nginx);
/// its command line names its folder, so no other nginx is ever signalled.
pub const GATEWAY: Managed = Managed {
    name: "gateway",
    cmdline_marker: ".nexus/gateway",
};
pub const SHOP: Managed = Managed {
    name: "web-shop",
    cmdline_marker: "web-shop",
};
pub const MAILDEV: Managed = Managed {
    name: "maildev",
    cmdline_marker: "maildev",
};
pub const MONGO: Managed = Managed {
    name: "mongo",
    cmdline_marker: "secantusd",
};
pub const REDIS: Managed = Managed {
    name: "redis",
    cmdline_marker: "redis-server",
};
pub const POSTGRES: Managed = Managed {
    name: "postgres",
    cmdline_marker: "postgres",
};

/// A demo account created by `storefront-api demo-data`.
#[derive(Debug, Clone, Copy)]
pub struct DemoLogin {
    pub role: &'static str,
    pub email: &'static str,
    pub password: &'static str,
}

pub const DEMO_LOGINS: [DemoLogin; 3] = [
    DemoLogin {
        role: "admin",
        email: "admin@nexus.test",
        password: "NexusAdmin!2026",
    },
    DemoLogin {
        role: "staff",
        email: "staff@nexus.test",
        password: "NexusStaff!2026",
    },
    DemoLogin {
        role: "customer",
        email: "customer1@nexus.test",
        password: "NexusShopper!2026",
    },
];
