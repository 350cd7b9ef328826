"""``ecommerce catalog import``: good rows land whole, bad rows are reported by line and land not at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.settings import Settings
from ecommerce.modules.catalog.models import Brand, Inventory, Product
from tests.support.processes import cli_env

CSV = """identification,name,description,price,currency,brand,category,warehouse,quantity
SKU-1,Trail Shoe,Grippy.,8999,USD,Acme,Shoes,Main,12
SKU-2,Road Shoe,Light.,not-a-price,USD,Acme,Shoes,Main,5
SKU-3,Sock,,499,usd,Sockco,Socks,Main,100
SKU-4,,No name.,100,USD,Ghost Brand,Ghosts,Main,1
SKU-5,Sandal,,2999,XXX,Acme,Shoes,Main,3
SKU-6,Boot,,12999,USD,Acme,Shoes,Nowhere,3
SKU-7,Slipper,,1999,USD,Acme,shoes,Main,2
"""


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ecommerce", *args], cwd=tmp_path, env=cli_env(tmp_path),
                          capture_output=True, text=True, timeout=120)


def test_import_reports_bad_rows_by_line_and_imports_the_rest(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    kernel = Kernel(settings)
    try:
        kernel.migrate()
        from ecommerce.modules.catalog import stock

        kernel.runner.call(stock.create_warehouse, "Main", {"city": "Berlin", "country": "DE"})
    finally:
        kernel.close()
    path = tmp_path / "products.csv"
    path.write_text(CSV)
    result = run(tmp_path, "catalog", "import", str(path))
    assert result.returncode == 1
    assert "3 created, 0 updated, 4 rejected" in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("line ")]
    assert [line.split(":")[0] for line in errors] == ["line 3", "line 5", "line 6", "line 7"]
    assert "price" in errors[0] and "name" in errors[1] and "currency" in errors[2] and "Nowhere" in errors[3]

    kernel = Kernel(settings)
    try:
        skus = kernel.runner.call(lambda: sorted(p.identification for p in Product.select()))
        brands = kernel.runner.call(lambda: sorted(b.name for b in Brand.select()))
        stock_rows = kernel.runner.call(lambda: sorted(
            (i.product.identification, i.quantity) for i in Inventory.select().join(Product)))
    finally:
        kernel.close()
    assert skus == ["SKU-1", "SKU-3", "SKU-7"]  # "shoes" is the same category as "Shoes"
    assert brands == ["Acme", "Sockco"]  # no brand from a rejected row ("Ghost Brand")
    assert stock_rows == [("SKU-1", 12), ("SKU-3", 100), ("SKU-7", 2)]

    path.write_text("identification,name,price,currency\nSKU-1,Trail Shoe v2,9999,USD\n")
    again = run(tmp_path, "catalog", "import", str(path))
    assert again.returncode == 0 and "0 created, 1 updated, 0 rejected" in again.stdout


def test_import_refuses_a_price_of_zero(tmp_path: Path) -> None:
    path = tmp_path / "products.csv"
    path.write_text("identification,name,price,currency\nFREE-1,Freebie,0,USD\nCHEAP-1,Cheap,1,USD\n")
    result = run(tmp_path, "catalog", "import", str(path))
    assert result.returncode == 1
    assert "1 created, 0 updated, 1 rejected" in result.stdout
    [error] = [line for line in result.stderr.splitlines() if line.startswith("line ")]
    assert error.startswith("line 2") and "price" in error


def test_import_of_a_file_without_required_columns(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("sku,title\nA,B\n")
    result = run(tmp_path, "catalog", "import", str(path))
    assert result.returncode == 2 and "missing column" in result.stderr and "Traceback" not in result.stderr
    assert run(tmp_path, "catalog", "import", str(tmp_path / "nope.csv")).returncode == 2
