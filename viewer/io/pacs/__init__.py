"""Working from a PACS over DICOMweb (QIDO-RS search, WADO-RS retrieve, STOW-RS store).

Qt-free: connections (`connection`), secrets in the system keyring (`credentials`), the client
over `dicomweb_client` with one-line errors (`client`), the retrieval cache (`cache`) and the
two jobs the app runs in the background (`jobs`: open a series, store a DICOM SEG back).
"""

from viewer.io.pacs.client import PacsClient, PacsSeries, PacsStudy, StoreResult
from viewer.io.pacs.connection import PacsConnection, load_connections, save_connections
from viewer.io.pacs.credentials import Credentials

__all__ = [
    "Credentials",
    "PacsClient",
    "PacsConnection",
    "PacsSeries",
    "PacsStudy",
    "StoreResult",
    "load_connections",
    "save_connections",
]
