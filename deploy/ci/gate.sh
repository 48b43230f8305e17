#!/usr/bin/env bash
# pfdrill gate for any CI system: the one entry point GitHub Actions, GitLab CI and
# others call (deploy/ci/github/runbook-gate.yml, deploy/ci/gitlab/runbook-gate.gitlab-ci.yml).
#
#   deploy/ci/gate.sh [pfdrill gate options ...]      e.g. --runbook ops/runbook.md --strict
#
# It finds the base revision the CI system knows (GitHub: origin/$GITHUB_BASE_REF; GitLab:
# $CI_MERGE_REQUEST_DIFF_BASE_SHA; else $PFDRILL_GATE_BASE, else pfdrill's own default, the
# merge base with origin/HEAD, main or master), makes sure the cluster toolchain is there
# (built once, cached in ~/.cache/pfdrill), runs `pfdrill gate`, appends the summary to
# $GITHUB_STEP_SUMMARY when there is one, and exits with the gate's code:
#   0 no regression · 1 regression · 2 bad input · 3 environment problem · 4 refused (safety)
# Reports: $PFDRILL_GATE_REPORTS/gate/<run-id>/{summary.md,junit.xml,gate.json,drills/}
# (default reports/), and a copy of the latest in $PFDRILL_GATE_REPORTS/gate/latest/.
#
# pfdrill itself: $PFDRILL, else `pfdrill` on PATH, else .venv/bin/pfdrill (make deps).
# On a CI runner ($CI set) the embedded cluster is brought down at the end unless
# PFDRILL_GATE_KEEP_CLUSTER=1.
set -euo pipefail

root=$(git rev-parse --show-toplevel)
cd "$root"

pfdrill=${PFDRILL:-$(command -v pfdrill || true)}
if [ -z "$pfdrill" ] && [ -x .venv/bin/pfdrill ]; then pfdrill=.venv/bin/pfdrill; fi
if [ -z "$pfdrill" ]; then
  echo "gate.sh: pfdrill is not installed (pip install pfdrill, or make deps in its checkout)" >&2
  exit 3
fi

base=${PFDRILL_GATE_BASE:-}
if [ -z "$base" ] && [ -n "${GITHUB_BASE_REF:-}" ]; then
  git fetch --no-tags --quiet origin "$GITHUB_BASE_REF" 2>/dev/null || true
  base="origin/$GITHUB_BASE_REF"
  git rev-parse --verify --quiet "$base^{commit}" >/dev/null || base=$GITHUB_BASE_REF
fi
if [ -z "$base" ] && [ -n "${CI_MERGE_REQUEST_DIFF_BASE_SHA:-}" ]; then
  git cat-file -e "${CI_MERGE_REQUEST_DIFF_BASE_SHA}^{commit}" 2>/dev/null \
    || git fetch --no-tags --quiet origin "${CI_MERGE_REQUEST_TARGET_BRANCH_NAME:-HEAD}" || true
  base=$CI_MERGE_REQUEST_DIFF_BASE_SHA
fi

reports=${PFDRILL_GATE_REPORTS:-reports}
cluster=${PFDRILL_GATE_CLUSTER:-pfdrill}
args=(gate --reports "$reports" --name "$cluster")
if [ -n "$base" ]; then args+=(--base "$base"); fi

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  if [ -n "${CI:-}" ] && [ "${PFDRILL_GATE_KEEP_CLUSTER:-0}" != 1 ]; then
    "$pfdrill" cluster down --name "$cluster" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

"$pfdrill" toolchain ensure

set +e
"$pfdrill" "${args[@]}" "$@"
rc=$?
set -e

latest=$(find "$reports/gate" -mindepth 1 -maxdepth 1 -type d -name '2*' 2>/dev/null \
  | sort | tail -n 1 || true)
if [ -n "$latest" ]; then
  rm -rf "$reports/gate/latest"
  cp -r "$latest" "$reports/gate/latest"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$latest/summary.md" >> "$GITHUB_STEP_SUMMARY"; fi
elif [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  echo "pfdrill gate wrote no report (exit $rc): see the step log" >> "$GITHUB_STEP_SUMMARY"
fi
exit "$rc"
