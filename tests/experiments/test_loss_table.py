from pathlib import Path

from experiments.loss_table import loss_table_markdown
from lightning_modules.losses import LOSSES

README = Path(__file__).resolve().parents[2] / "README.md"


def test_table_has_one_row_per_loss() -> None:
    rows = loss_table_markdown().splitlines()[2:]
    assert [row.split("|")[1].strip(" `") for row in rows] == [cls.__name__ for cls in LOSSES]


def test_readme_embeds_the_generated_table() -> None:
    assert loss_table_markdown() in README.read_text(), "regenerate with `losslab losses` and paste into README"
