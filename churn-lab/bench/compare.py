"""Fit scikit-learn, LightGBM and lifetimes on exactly the customers churn-lab's benchmark
exported (target/churn-bench/{train,test}.csv: `churned` + the feature columns), and print a
markdown table of fit time and test ROC-AUC. Benchmark only: Python is never part of the
product.

    python3 -m venv .venv-bench && .venv-bench/bin/pip install scikit-learn lightgbm lifetimes pandas
    cargo bench -p churn-lab   # writes the CSVs
    .venv-bench/bin/python churn-lab/bench/compare.py
"""

import os
import sys
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import AdaBoostClassifier, HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

here = os.path.join(os.path.dirname(__file__), "..", "..", "target", "churn-bench")
train = pd.read_csv(os.path.join(here, "train.csv"))
test = pd.read_csv(os.path.join(here, "test.csv"))
y_train, y_test = train.pop("churned").values, test.pop("churned").values
X_train, X_test = train.values, test.values
threads = os.cpu_count()

rows = []


repeat = max(1, int(os.environ.get("CHURN_BENCH_REPEAT", "3")))
seed = int(os.environ.get("CHURN_BENCH_SEED", "42"))  # the models' seed, as in the Rust bench


def run(name, params, make, fit=None, score=None):
    """Fits `repeat` times (as the Rust bench does) and keeps the median time."""
    times = []
    for _ in range(repeat):
        model = make()
        started = time.perf_counter()
        (fit or (lambda m: m.fit(X_train, y_train)))(model)
        times.append(time.perf_counter() - started)
    p = (score or (lambda m: m.predict_proba(X_test)[:, 1]))(model)
    rows.append((name, params, sorted(times)[len(times) // 2], roc_auc_score(y_test, p)))


signed_log = FunctionTransformer(lambda x: np.sign(x) * np.log1p(np.abs(x)))
run("sklearn LogisticRegression", "signed log, standardised, C=1",
    lambda: make_pipeline(signed_log, StandardScaler(), LogisticRegression(max_iter=1000)))
run("sklearn RandomForest", "300 trees, depth 12, leaf 20, max_features 0.35",
    lambda: RandomForestClassifier(300, max_depth=12, min_samples_leaf=20, max_features=0.35, n_jobs=-1, random_state=seed))
run("sklearn RandomForest", "300 trees, full depth, leaf 1, max_features 0.35",
    lambda: RandomForestClassifier(300, max_features=0.35, n_jobs=-1, random_state=seed))
run("sklearn AdaBoost", "100 depth-2 trees, lr 0.5",
    lambda: AdaBoostClassifier(n_estimators=100, learning_rate=0.5, random_state=seed,
                               estimator=__import__("sklearn.tree", fromlist=["DecisionTreeClassifier"]).DecisionTreeClassifier(max_depth=2)))
run("sklearn HistGradientBoosting", "200 iterations, lr 0.05, depth 4, leaf 20",
    lambda: HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_depth=4, min_samples_leaf=20, random_state=seed))

try:
    import lightgbm as lgb
    run("LightGBM", "200 trees, lr 0.05, depth 4, leaf 20, bagging 0.8",
        lambda: lgb.LGBMClassifier(n_estimators=200, learning_rate=0.05, max_depth=4, min_child_samples=20,
                                   subsample=0.8, subsample_freq=1, reg_lambda=1.0, verbose=-1, random_state=seed))
except ImportError:
    print("lightgbm not installed: skipped", file=sys.stderr)

try:
    from lifetimes import BetaGeoFitter
    names = list(train.columns)
    window_weeks = float(os.environ.get("CHURN_BENCH_WINDOW_DAYS", "180")) / 7.0

    def rfm(X):
        days = X[:, names.index("purchase_days")]
        recency = X[:, names.index("recency_days")]
        tenure = X[:, names.index("tenure_days")]
        return np.maximum(days - 1, 0), np.maximum(tenure - recency, 0) / 7.0, tenure / 7.0

    def fit_bgnbd(model):
        x, t_x, T = rfm(X_train)
        model.fit(x, t_x, T)

    def score_bgnbd(model):
        x, t_x, T = rfm(X_test)
        # P(no purchase in the window) = 1 - P(alive) + P(alive) * P(0 purchases | alive)
        alive = model.conditional_probability_alive(x, t_x, T)
        r, alpha = model.params_["r"], model.params_["alpha"]
        silent = ((alpha + T) / (alpha + T + window_weeks)) ** (r + x)
        return 1 - alive + alive * silent

    run("lifetimes BetaGeoFitter", "MLE", lambda: BetaGeoFitter(penalizer_coef=0.0), fit_bgnbd, score_bgnbd)
except ImportError:
    print("lifetimes not installed: skipped", file=sys.stderr)

print(f"Python {sys.version.split()[0]}, {threads} threads; {len(y_train)} train / {len(y_test)} test customers\n")
print("| model | parameters | fit (s), median | test ROC-AUC |")
print("| --- | --- | ---: | ---: |")
for name, params, seconds, auc in rows:
    print(f"| {name} | {params} | {seconds:.3f} | {auc:.4f} |")
