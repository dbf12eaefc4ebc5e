#!/bin/sh
# extagram-media-render: choose what the media tier serves /media/ from, at every start.
#
#   EXTAGRAM_S3_BUCKET unset -> /etc/extagram/media/local.conf: files of the media
#                               volume, mounted read-only at /srv/media
#   EXTAGRAM_S3_BUCKET set   -> bucket.conf.template: nginx proxy_pass to the bucket's
#                               HTTP endpoint, with a small bounded proxy_cache on a volume
#
# The result goes to /tmp/extagram-nginx/media.conf (nginx.conf includes that folder).
# Only the listed variables are substituted; every value is validated first.
set -eu

OUT=/tmp/extagram-nginx
die() { echo "extagram-media-render: $*" >&2; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT"
if [ -z "${EXTAGRAM_S3_BUCKET:-}" ]; then
	cp /etc/extagram/media/local.conf "$OUT/media.conf"
	echo "extagram-media-render: photos from the media volume" >&2
	exit 0
fi

: "${EXTAGRAM_S3_REGION:=us-east-1}"
: "${EXTAGRAM_S3_ENDPOINT_URL:=}"
: "${EXTAGRAM_S3_ADDRESSING_STYLE:=}"
: "${EXTAGRAM_S3_PREFIX:=}"
: "${EXTAGRAM_MEDIA_CACHE_SECONDS:=600}"
: "${EXTAGRAM_MEDIA_RESOLVER:=127.0.0.11}"

echo "$EXTAGRAM_S3_BUCKET" | grep -Eq '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' \
	|| die "EXTAGRAM_S3_BUCKET '$EXTAGRAM_S3_BUCKET' is not a bucket name"
echo "$EXTAGRAM_S3_REGION" | grep -Eq '^[a-z0-9-]+$' || die "bad EXTAGRAM_S3_REGION '$EXTAGRAM_S3_REGION'"
echo "$EXTAGRAM_S3_PREFIX" | grep -Eq '^[A-Za-z0-9._/-]*$' || die "bad EXTAGRAM_S3_PREFIX '$EXTAGRAM_S3_PREFIX'"
case "$EXTAGRAM_MEDIA_CACHE_SECONDS" in ''|*[!0-9]*) die "EXTAGRAM_MEDIA_CACHE_SECONDS must be a whole number" ;; esac
echo "$EXTAGRAM_MEDIA_RESOLVER" | grep -Eq '^[][0-9A-Za-z.:_ =-]+$' || die "bad EXTAGRAM_MEDIA_RESOLVER"

# The object URL of /media/<name> is $origin/<prefix/><name>, as S3 addresses it:
# path style ENDPOINT/BUCKET/KEY (self-hosted stores), virtual-hosted style
# scheme://BUCKET.HOST/KEY (AWS's default when no endpoint is given).
if [ -n "$EXTAGRAM_S3_ENDPOINT_URL" ]; then
	echo "$EXTAGRAM_S3_ENDPOINT_URL" | grep -Eq '^https?://[][A-Za-z0-9.:-]+/?$' \
		|| die "EXTAGRAM_S3_ENDPOINT_URL must be http(s)://host[:port], not '$EXTAGRAM_S3_ENDPOINT_URL'"
	endpoint=${EXTAGRAM_S3_ENDPOINT_URL%/}
	if [ "$EXTAGRAM_S3_ADDRESSING_STYLE" = virtual ]; then
		scheme=${endpoint%%://*}
		origin="$scheme://$EXTAGRAM_S3_BUCKET.${endpoint#*://}"
	else
		origin="$endpoint/$EXTAGRAM_S3_BUCKET"
	fi
else
	origin="https://$EXTAGRAM_S3_BUCKET.s3.$EXTAGRAM_S3_REGION.amazonaws.com"
fi
prefix=$(echo "$EXTAGRAM_S3_PREFIX" | sed 's,^/*,,; s,/*$,,')
[ -n "$prefix" ] && prefix="$prefix/"
host=${origin#*://}; host=${host%%/*}

EXTAGRAM_MEDIA_ORIGIN=$origin EXTAGRAM_MEDIA_KEY_PREFIX=$prefix EXTAGRAM_MEDIA_HOST=$host \
	EXTAGRAM_MEDIA_CACHE_SECONDS=$EXTAGRAM_MEDIA_CACHE_SECONDS \
	EXTAGRAM_MEDIA_RESOLVER=$EXTAGRAM_MEDIA_RESOLVER \
	envsubst '${EXTAGRAM_MEDIA_ORIGIN} ${EXTAGRAM_MEDIA_KEY_PREFIX} ${EXTAGRAM_MEDIA_HOST} ${EXTAGRAM_MEDIA_CACHE_SECONDS} ${EXTAGRAM_MEDIA_RESOLVER}' \
	< /etc/extagram/media/bucket.conf.template > "$OUT/media.conf"
echo "extagram-media-render: photos from $origin/${prefix}, cached ${EXTAGRAM_MEDIA_CACHE_SECONDS}s" >&2
