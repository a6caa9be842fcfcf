"""Reference data of the allocation app: the accelerator models that capacity and requests are counted in."""
import csv
import datetime
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction

from allocation.models import HardwareType
from audit.services import audit_record

DATA_DIR = settings.BASE_DIR / "data"
ACCELERATORS_FILE = "accelerator_specs_core.csv"


def _decimal(text: str | None) -> Decimal | None:
    text = (text or "").strip()
    return Decimal(text) if text else None


def _date(text: str | None) -> datetime.date | None:
    text = (text or "").strip()
    return datetime.date.fromisoformat(text) if text else None


@transaction.atomic
def hardware_types_load(*, data_dir: Path = DATA_DIR) -> int:
    """Create or update one HardwareType per row of ``accelerator_specs_core.csv``, keyed on
    ``accelerator_key``, with its H100-equivalent factor (``h100_sxm_equiv_16bit``: dense 16-bit tensor
    throughput over an H100 SXM5's). Returns the number of hardware types loaded.

    Rows without an H100-equivalent factor are skipped, because capacity on them cannot be counted in
    h100e-hours: in the shipped file that is the NVIDIA A10, for which Epoch AI gives no 16-bit tensor
    value. A skipped row that was loaded before is left as it is (lots and requests may refer to it)."""
    with (data_dir / ACCELERATORS_FILE).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    loaded = 0
    for row in rows:
        h100e = _decimal(row["h100_sxm_equiv_16bit"])
        if h100e is None:
            continue
        hardware = HardwareType.objects.filter(key=row["accelerator_key"]).first() or HardwareType(
            key=row["accelerator_key"]
        )
        hardware.name = row["hardware_name"]
        hardware.manufacturer = row["manufacturer"]
        hardware.release_date = _date(row["release_date"])
        hardware.h100e = h100e
        hardware.memory_gb = _decimal(row["memory_gb"])
        hardware.dense_16bit_tflops = _decimal(row["dense_16bit_tensor_tflops"])
        tdp = _decimal(row["tdp_w"])
        hardware.tdp_w = int(tdp) if tdp is not None else None
        hardware.full_clean()
        hardware.save()
        audit_record(action="hardware_type_load", obj=hardware, only_if_changed=True)
        loaded += 1
    return loaded
