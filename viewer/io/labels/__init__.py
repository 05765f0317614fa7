"""Label files: one module per format (`formats/`), one registry (`registry`: name ending ->
format, the file-dialog filters), grid fitting and value checks (`grid`), reading onto an
image and saving (`load_save`), and the app's entry `open_labels` (`open`: names files, notes).

Dependencies point one way: format <- formats/* <- registry <- load_save <- open; `grid` is a
leaf. Import the module you need (this package file imports nothing, so that no module here
imports one that imports it back).
"""
