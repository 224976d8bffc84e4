"""`python -m ops schema`: the catalog's JSON Schema, generated from the models in catalog/services.py.

Editors with the YAML language server read it through the first line of the catalog
(`# yaml-language-server: $schema=services.schema.json`) to complete and check keys.
"""

from __future__ import annotations

import json

from catalog.model import PROGRAM_DIR
from catalog.services import Catalog

SCHEMA_FILE = PROGRAM_DIR / "config" / "services.schema.json"
REGENERATE = "python -m ops schema --write"


def add_arguments(parser) -> None:
    parser.add_argument("--write", action="store_true", help=f"rewrite {SCHEMA_FILE.relative_to(PROGRAM_DIR)} in place")


def generate() -> str:
    schema = Catalog.model_json_schema(mode="validation")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema,
              "title": "devtools service catalog",
              "description": "config/services.yaml: the one list of services, networks, volumes, secrets and configs."}
    # Top-level x-... keys hold YAML anchors, as in compose; the model drops them before validating.
    schema["patternProperties"] = {"^x-": {}}
    # Environment values may be written as numbers or booleans, as in compose; the model turns them into text.
    environment = schema["$defs"]["Service"]["properties"]["environment"]
    environment["additionalProperties"] = {"type": ["string", "number", "boolean"]}
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


def run(args) -> int:
    text = generate()
    if args.write:
        SCHEMA_FILE.write_text(text, encoding="utf-8")
        print(f"wrote {SCHEMA_FILE.relative_to(PROGRAM_DIR)}")
    else:
        print(text, end="")
    return 0
