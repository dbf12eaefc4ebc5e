#!/bin/sh
# extagram-render-config: render the proxy's nginx configuration from the environment.
#
# Runs at every container start (entrypoint) and can be re-run on a live proxy followed by
# `nginx -s reload` (zero downtime), e.g. after changing EXTAGRAM_APP_UPSTREAM:
#   docker compose exec proxy sh -c 'extagram-render-config && nginx -s reload'
#
# Templates: /etc/extagram/proxy/templates/*.template  ->  /tmp/extagram-nginx/*.conf
# Only the variables listed in VARS are substituted; nginx's own $variables are left alone.
# Every value is validated first, so a typo gives a clear message, not a broken config.
set -eu

TEMPLATES=/etc/extagram/proxy/templates
PAGES=/etc/extagram/proxy/errors
TLS_DIR=${EXTAGRAM_TLS_DIR_IN_CONTAINER:-/etc/extagram/tls}
OUT=/tmp/extagram-nginx

die() { echo "extagram-render-config: $*" >&2; exit 1; }

: "${EXTAGRAM_HOSTS:=localhost,127.0.0.1}"
: "${EXTAGRAM_UPLOAD_MAX_MB:=10}"
: "${EXTAGRAM_TLS:=false}"
: "${EXTAGRAM_TLS_SELF_SIGNED:=true}"
: "${EXTAGRAM_HTTPS_PORT:=8443}"
: "${EXTAGRAM_HSTS_SECONDS:=31536000}"
: "${EXTAGRAM_PROXY_RESOLVER:=127.0.0.11}"
: "${EXTAGRAM_PROXY_LOGIN_RATE:=10r/m}"
: "${EXTAGRAM_PROXY_LOGIN_BURST:=5}"
: "${EXTAGRAM_PROXY_UPLOAD_RATE:=20r/m}"
: "${EXTAGRAM_PROXY_UPLOAD_BURST:=10}"
: "${EXTAGRAM_APP_UPSTREAM:=app:8000}"
: "${EXTAGRAM_UPLOAD_UPSTREAM:=upload:8000}"
: "${EXTAGRAM_MEDIA_UPSTREAM:=media:8080}"
: "${EXTAGRAM_STATIC_UPSTREAM:=static:8080}"
# how long the proxy serves a photo from its cache before asking media again: the bound
# on how long a deleted post's photo can still be served (docs/performance.md)
: "${EXTAGRAM_PROXY_MEDIA_CACHE_SECONDS:=60}"

# ---------------------------------------------------------------- validation
is_uint() { case "$1" in ''|*[!0-9]*) return 1 ;; *) return 0 ;; esac; }
is_uint "$EXTAGRAM_UPLOAD_MAX_MB" && [ "$EXTAGRAM_UPLOAD_MAX_MB" -ge 1 ] \
	|| die "EXTAGRAM_UPLOAD_MAX_MB must be a whole number of megabytes (>= 1), not '$EXTAGRAM_UPLOAD_MAX_MB'"
for v in EXTAGRAM_PROXY_LOGIN_BURST EXTAGRAM_PROXY_UPLOAD_BURST EXTAGRAM_HTTPS_PORT EXTAGRAM_HSTS_SECONDS \
	EXTAGRAM_PROXY_MEDIA_CACHE_SECONDS; do
	eval "val=\$$v"
	is_uint "$val" || die "$v must be a whole number, not '$val'"
done
for v in EXTAGRAM_PROXY_LOGIN_RATE EXTAGRAM_PROXY_UPLOAD_RATE; do
	eval "val=\$$v"
	echo "$val" | grep -Eq '^[0-9]+r/[sm]$' || die "$v must look like 10r/m or 2r/s, not '$val'"
done
for v in EXTAGRAM_APP_UPSTREAM EXTAGRAM_UPLOAD_UPSTREAM EXTAGRAM_MEDIA_UPSTREAM EXTAGRAM_STATIC_UPSTREAM; do
	eval "val=\$$v"
	echo "$val" | grep -Eq '^[A-Za-z0-9._-]+:[0-9]+$' || die "$v must be host:port, not '$val'"
done
echo "$EXTAGRAM_PROXY_RESOLVER" | grep -Eq '^[][0-9A-Za-z.:_ =-]+$' || die "bad EXTAGRAM_PROXY_RESOLVER"

names=$(echo "$EXTAGRAM_HOSTS" | tr ',' ' ' | xargs)
[ -n "$names" ] || die "EXTAGRAM_HOSTS is empty: list the host names of the site, comma separated"
for h in $names; do
	echo "$h" | grep -Eq '^(\*\.|\.)?[A-Za-z0-9_.-]+$|^\[[0-9A-Fa-f:.]+\]$' \
		|| die "EXTAGRAM_HOSTS: '$h' is not a host name or IP address"
done
EXTAGRAM_SERVER_NAMES=$names

case "$(echo "$EXTAGRAM_TLS" | tr 'A-Z' 'a-z')" in
	1|true|yes|on) tls=1 ;;
	0|false|no|off|'') tls= ;;
	*) die "EXTAGRAM_TLS must be true or false, not '$EXTAGRAM_TLS'" ;;
esac

# ---------------------------------------------------------------- render
rm -rf "$OUT"
mkdir -p "$OUT/html"

hsts=
if [ -n "$tls" ]; then
	cert=$TLS_DIR/fullchain.pem
	key=$TLS_DIR/privkey.pem
	if [ ! -e "$cert" ] && [ ! -e "$key" ]; then
		case "$(echo "$EXTAGRAM_TLS_SELF_SIGNED" | tr 'A-Z' 'a-z')" in
			1|true|yes|on) ;;
			*) die "EXTAGRAM_TLS=true but there is no $cert + $key (put them in the folder EXTAGRAM_TLS_DIR names, or set EXTAGRAM_TLS_SELF_SIGNED=true)" ;;
		esac
		command -v openssl >/dev/null || die "no certificate in $TLS_DIR and no openssl to make a self-signed one"
		mkdir -p "$OUT/tls"
		san=
		for h in $names; do
			h=${h#.}; h=${h#\*.}
			case "$h" in
				\[*) san="$san,IP:$(echo "$h" | tr -d '[]')" ;;
				*[!0-9.]*) san="$san,DNS:$h" ;;
				*) san="$san,IP:$h" ;;
			esac
		done
		first=$(echo "$names" | cut -d' ' -f1); first=${first#.}; first=${first#\*.}
		cert=$OUT/tls/fullchain.pem
		key=$OUT/tls/privkey.pem
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 90 \
			-subj "/CN=$first" -addext "subjectAltName=${san#,}" \
			-keyout "$key" -out "$cert" 2>/dev/null \
			|| die "could not generate a self-signed certificate"
		echo "extagram-render-config: TLS with a self-signed certificate for: $names (local use only)" >&2
	fi
	[ -r "$cert" ] && [ -r "$key" ] \
		|| die "cannot read $cert and $key as uid $(id -u): make them readable (e.g. chmod 644 fullchain.pem; chgrp 101 privkey.pem; chmod 640 privkey.pem)"
	# OCSP stapling needs the issuer (a chain of 2+ certificates) and a responder URL;
	# the response is verified against the system's CA bundle where the image has one.
	stapling="# (off: self-signed, or no OCSP responder URL or no issuer in $cert)"
	if [ "$cert" = "$TLS_DIR/fullchain.pem" ] \
		&& [ "$(grep -c 'BEGIN CERTIFICATE' "$cert")" -ge 2 ] \
		&& [ -n "$(openssl x509 -noout -ocsp_uri -in "$cert" 2>/dev/null)" ]; then
		stapling="ssl_stapling on;"
		for bundle in /etc/ssl/certs/ca-certificates.crt /etc/ssl/cert.pem; do
			if [ -r "$bundle" ]; then
				stapling="$stapling
ssl_stapling_verify on;
ssl_trusted_certificate $bundle;"
				break
			fi
		done
		echo "extagram-render-config: OCSP stapling on" >&2
	fi
	if [ "$EXTAGRAM_HTTPS_PORT" = 443 ]; then EXTAGRAM_HTTPS_PORT_SUFFIX=; else EXTAGRAM_HTTPS_PORT_SUFFIX=":$EXTAGRAM_HTTPS_PORT"; fi
	EXTAGRAM_SITE_LISTEN="listen 8443 ssl;
    http2 on;
    include $OUT/tls.inc;
    # plain HTTP sent to the HTTPS port (nginx's 497, a bare 400 page): the same address
    # over HTTPS, as the HTTP port's redirect does
    error_page 497 =308 https://\$host$EXTAGRAM_HTTPS_PORT_SUFFIX\$request_uri;"
	if [ "$EXTAGRAM_HSTS_SECONDS" -gt 0 ]; then
		hsts="add_header Strict-Transport-Security \"max-age=$EXTAGRAM_HSTS_SECONDS; includeSubDomains\" always;"
	fi
else
	EXTAGRAM_SITE_LISTEN="listen 8080;"
	EXTAGRAM_HTTPS_PORT_SUFFIX=
fi

export EXTAGRAM_SERVER_NAMES EXTAGRAM_SITE_LISTEN EXTAGRAM_HTTPS_PORT_SUFFIX \
	EXTAGRAM_UPLOAD_MAX_MB EXTAGRAM_PROXY_RESOLVER EXTAGRAM_PROXY_LOGIN_RATE \
	EXTAGRAM_PROXY_LOGIN_BURST EXTAGRAM_PROXY_UPLOAD_RATE EXTAGRAM_PROXY_UPLOAD_BURST \
	EXTAGRAM_APP_UPSTREAM EXTAGRAM_UPLOAD_UPSTREAM EXTAGRAM_MEDIA_UPSTREAM EXTAGRAM_STATIC_UPSTREAM \
	EXTAGRAM_PROXY_MEDIA_CACHE_SECONDS
VARS='${EXTAGRAM_SERVER_NAMES} ${EXTAGRAM_SITE_LISTEN} ${EXTAGRAM_HTTPS_PORT_SUFFIX}
${EXTAGRAM_UPLOAD_MAX_MB} ${EXTAGRAM_PROXY_RESOLVER} ${EXTAGRAM_PROXY_LOGIN_RATE}
${EXTAGRAM_PROXY_LOGIN_BURST} ${EXTAGRAM_PROXY_UPLOAD_RATE} ${EXTAGRAM_PROXY_UPLOAD_BURST}
${EXTAGRAM_APP_UPSTREAM} ${EXTAGRAM_UPLOAD_UPSTREAM} ${EXTAGRAM_MEDIA_UPSTREAM}
${EXTAGRAM_STATIC_UPSTREAM} ${EXTAGRAM_PROXY_MEDIA_CACHE_SECONDS}'

if [ -n "$tls" ]; then
	EXTAGRAM_TLS_CERT=$cert EXTAGRAM_TLS_KEY=$key EXTAGRAM_TLS_STAPLING=$stapling \
		envsubst '${EXTAGRAM_TLS_CERT} ${EXTAGRAM_TLS_KEY} ${EXTAGRAM_TLS_STAPLING}' \
		< "$TEMPLATES/tls.inc.template" > "$OUT/tls.inc"
fi

for t in "$TEMPLATES"/*.conf.template; do
	name=$(basename "$t" .template)
	case "$name" in *-tls.conf) [ -n "$tls" ] || continue ;; esac
	envsubst "$VARS" < "$t" > "$OUT/$name"
done
# The error pages (pages.tsv): English at the top, each other language in its own folder.
tab=$(printf '\t')
while IFS="$tab" read -r PAGE_LANG status PAGE_TITLE PAGE_MESSAGE PAGE_BACK; do
	case "$PAGE_LANG" in '' | '#'*) continue ;; esac
	folder="$OUT/html"
	[ "$PAGE_LANG" = en ] || folder="$OUT/html/$PAGE_LANG"
	mkdir -p "$folder"
	export PAGE_LANG PAGE_TITLE PAGE_MESSAGE PAGE_BACK
	envsubst '${PAGE_LANG} ${PAGE_TITLE} ${PAGE_MESSAGE} ${PAGE_BACK}' \
		< "$PAGES/page.html.template" | envsubst '${EXTAGRAM_UPLOAD_MAX_MB}' > "$folder/$status.html"
done < "$PAGES/pages.tsv"
cp "$PAGES/error.css" "$OUT/html/error.css"

# Pages from the app and the upload tier: their security headers (CSP, Permissions-Policy,
# Referrer-Policy, X-Content-Type-Options, X-Frame-Options, COOP) come from Django itself,
# one source of truth for every deployment, and pass through unchanged. The proxy adds
# only what belongs to it: the request id and, with TLS, HSTS.
cat > "$OUT/headers-page.inc" <<EOF
add_header X-Request-ID \$request_id always;
$hsts
EOF
# The proxy's own pages (its 413/429/503 error pages): a policy of their own, as strict
# as those static pages allow.
cat > "$OUT/headers-own-page.inc" <<EOF
add_header X-Request-ID \$request_id always;
add_header Content-Security-Policy "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'" always;
add_header X-Content-Type-Options nosniff always;
add_header X-Frame-Options DENY always;
add_header Referrer-Policy same-origin always;
add_header Cross-Origin-Opener-Policy same-origin always;
add_header Permissions-Policy "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()" always;
$hsts
EOF
# The default servers' pages (plain and TLS): one copy for both.
cat > "$OUT/refused-early.inc" <<'EOF'
# A request refused before its Host header is read is refused by the address's
# default server: a request line over large_client_header_buffers (a pasted link of
# over 8 KB: 414), one nginx cannot read (a %00 in the path: 400), a header over the
# buffers before the Host (494). The site's own pages, in English (the
# Accept-Language header is not read either).
error_page 400 /__extagram/errors/400-request.html;
error_page 414 /__extagram/errors/414.html;
error_page 494 =400 /__extagram/errors/400.html;
# an HTTP version nginx does not speak (505) or a transfer coding it does not know (501):
# the client's, answered 400 as in the site's server
error_page 501 505 =400 /__extagram/errors/400-protocol.html;
location ^~ /__extagram/errors/ {
    internal;
    # the rest of the refused request is read and dropped before the connection closes:
    # closed with it unread, the kernel sends a reset that can overtake the page (a
    # pasted 10-KB link lost its 414 page 6 times in 100 under load)
    lingering_close always;
    alias /tmp/extagram-nginx/html/;
    charset utf-8;
    add_header Cache-Control "no-store" always;
    add_header Allow $extagram_allow always;
    include /tmp/extagram-nginx/headers-own-page.inc;
}
# asked for from outside (internal: a 404), refused like any other unknown Host; so is
# plain HTTP sent to the HTTPS port (nginx's 497) for an unknown Host
error_page 404 497 = @refused;
location @refused {
    return 444;
}
EOF
# Photos and static files: the media and static tiers send their own X-Content-Type-Options
# and caching headers; the proxy adds only its own.
cat > "$OUT/headers-asset.inc" <<EOF
add_header X-Request-ID \$request_id always;
$hsts
EOF
# The app's locations (pages, log-ins, uploads): what the app server would refuse with a
# bare page of its own is refused here first, with the site's (10-http.conf's maps). An
# `if` in each location, not the server: a server-level one runs again for the error page's
# internal redirect (the same request line) and nginx then sends its bare page.
cat > "$OUT/app-location.inc" <<'EOF'
if ($extagram_raw_target) {
    return 400;
}
if ($extagram_method_taken = 0) {
    return 405;
}
EOF
# What the /media/ and /static/ locations share (20-site.conf, which says why), beside
# their own proxy_pass and how long a file is kept.
cat > "$OUT/asset-location.inc" <<'EOF'
# files are only read: another method gets the 405 page (limit_except's 403 was bare)
if ($request_method !~ ^(GET|HEAD)$) {
    return 405;
}
proxy_cache extagram_assets;
proxy_cache_key $uri;
proxy_ignore_headers Cache-Control Expires X-Accel-Expires;
proxy_cache_revalidate on;
# No byte ranges: a photo or a style sheet is fetched whole (browsers ask ranges of audio
# and video only), and a Range past a file's end got nginx's bare 416 carrying the file's
# own headers (Cache-Control: immutable among them). A Range is answered with the whole
# file, as RFC 9110, 14.2 allows.
max_ranges 0;
# a missing file (a deleted post's photo opened from an old link) gets the proxy's own
# 404 page, not the tier's bare one; a location's error_page replaces the server's list
proxy_intercept_errors on;
# the tier's 403 for a folder (GET /static/): nothing to see there either
error_page 403 =404 /__extagram/errors/${extagram_error_lang}404.html;
error_page 405 /__extagram/errors/${extagram_error_lang}405.html;
# a precondition the stored file fails (If-Match with another ETag, If-Unmodified-Since
# before its Last-Modified): nginx's bare 412 before
error_page 412 /__extagram/errors/${extagram_error_lang}412.html;
error_page 500 /__extagram/errors/${extagram_error_lang}500.html;
include /tmp/extagram-nginx/headers-asset.inc;
add_header X-Cache $upstream_cache_status always;
EOF
# A file no tier has, or a tier that cannot answer: the proxy's own pages. /media/ and the
# app's fallback for /static/ take these; /static/ first asks the app (20-site.conf).
cat > "$OUT/asset-missing.inc" <<'EOF'
error_page 404 /__extagram/errors/${extagram_error_lang}404.html;
error_page 502 504 =503 /__extagram/errors/${extagram_error_lang}503.html;
EOF
# .inc files are included explicitly, never by the *.conf glob
if [ -n "$tls" ]; then state=on; else state=off; fi
echo "extagram-render-config: hosts [$names], upload limit ${EXTAGRAM_UPLOAD_MAX_MB} MB, TLS $state" >&2
