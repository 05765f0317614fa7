"""The Qt user interface: main window, slice views, 3D view, dialogs. The only package that
imports PyQt5, pyqtgraph and VTK."""
