"""The photo formats the site takes, apart from the pipeline (extagram/uploads/images.py)
so that the upload forms can name them without loading libvips and Pillow: the app role
renders those forms but never processes a photo."""

# The formats we take (images.sniff() names); the upload form's `accept` lists their types.
ACCEPTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "HEIF", "AVIF")
ACCEPTED_MIME_TYPES = (
    "image/jpeg,image/png,image/gif,image/webp,image/heic,image/heif,image/avif,.heic,.heif,.avif"
)
