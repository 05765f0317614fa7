"""One module per label file format, each defining `FORMAT` (a viewer.io.labels.format
`LabelFormat`); viewer.io.labels.registry lists them. Format modules import no other label
module than `format`, `grid` and the shared `image` helpers."""
