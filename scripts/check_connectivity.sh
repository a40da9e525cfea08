#!/usr/bin/env bash
# Network checks: the service itself, and optionally AWS Bedrock (Titan) and Prometheus.
#
# Usage: check_connectivity.sh [--aws] [--prometheus] [--sts] [--url URL]
#   (always)      the service answers on $LAPCE_AI_URL
#   --aws         DNS, TCP and HTTPS to the Bedrock runtime endpoint of $AWS_REGION (or
#                 $AWS_ENDPOINT_URL_BEDROCK_RUNTIME); with AWS credentials in the environment
#                 (or --sts) also `aws sts get-caller-identity`
#   --prometheus  $PROMETHEUS_URL (default http://localhost:9090) is ready and has scraped
#                 semantic_search_memory_rss_bytes from the service
# Exit 1 when a requested check fails.
source "$(dirname "$0")/_common.sh"
handle_help "$@"

aws=0 prom=0 sts=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --aws) aws=1; shift ;;
        --prometheus) prom=1; shift ;;
        --sts) sts=1; shift ;;
        --url) LAPCE_AI_URL="$2"; shift 2 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
CHECK_FAILS=0
code="$(http_status /alive)"
[[ "$code" == 200 ]] && check PASS service "$LAPCE_AI_URL" || check FAIL service "$LAPCE_AI_URL: HTTP $code"

if [[ "$aws" == 1 ]]; then
    region="${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}"
    endpoint="${AWS_ENDPOINT_URL_BEDROCK_RUNTIME:-${AWS_ENDPOINT_URL:-https://bedrock-runtime.$region.amazonaws.com}}"
    host="$(sed -E 's#^[a-z]+://([^:/]+).*#\1#' <<<"$endpoint")"
    port="$(sed -E 's#^[a-z]+://[^:/]+:?([0-9]*).*#\1#' <<<"$endpoint")"
    [[ -n "$port" ]] || { [[ "$endpoint" == https* ]] && port=443 || port=80; }
    if getent hosts "$host" >/dev/null 2>&1; then check PASS aws-dns "$host"; else check FAIL aws-dns "cannot resolve $host"; fi
    if timeout 5 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null; then check PASS aws-tcp "$host:$port"
    else check FAIL aws-tcp "cannot connect to $host:$port"; fi
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$endpoint/" || true)"
    [[ "$code" != 000 ]] && check PASS aws-https "$endpoint answered HTTP $code" || check FAIL aws-https "$endpoint: no answer"
    if [[ "$sts" == 1 || -n "${AWS_ACCESS_KEY_ID:-}" ]]; then
        if command -v aws >/dev/null 2>&1; then
            if who="$(timeout 20 aws sts get-caller-identity --query Arn --output text 2>&1)"; then check PASS aws-credentials "$who"
            else check FAIL aws-credentials "$(tail -1 <<<"$who")"; fi
        else
            check WARN aws-credentials "aws CLI not installed"
        fi
    else
        check WARN aws-credentials "no AWS_ACCESS_KEY_ID in this environment (the service's is in $LAPCE_AI_ENV_FILE); --sts to try anyway"
    fi
fi

if [[ "$prom" == 1 ]]; then
    prom_url="${PROMETHEUS_URL:-http://localhost:9090}"
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$prom_url/-/ready" || true)"
    if [[ "$code" == 200 ]]; then
        check PASS prometheus "$prom_url ready"
        result="$(curl -fsS --max-time 5 "$prom_url/api/v1/query?query=semantic_search_memory_rss_bytes" || true)"
        if [[ "$(json_get data.result.0.value.1 <<<"${result:-{\}}" 2>/dev/null)" != "" ]]; then check PASS prometheus-scrape "semantic_search_memory_rss_bytes present"
        else check FAIL prometheus-scrape "Prometheus has no semantic_search_memory_rss_bytes: is $LAPCE_AI_URL/metrics a scrape target?"; fi
    else
        check FAIL prometheus "$prom_url/-/ready: HTTP $code"
    fi
fi
[[ "$CHECK_FAILS" -eq 0 ]]
