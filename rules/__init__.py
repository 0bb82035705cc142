"""Rule packs shipped with hegui: YAML files that policy staff edit."""
