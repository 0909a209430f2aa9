"""Rules as data: the RuleSpec schema, loading rule files, selecting rules, running their inline cases."""

from scrubber.rules.load import RuleLoadError, bundled_rule_files, load_rules
from scrubber.rules.spec import RuleCase, RuleSpec

__all__ = ["RuleCase", "RuleLoadError", "RuleSpec", "bundled_rule_files", "load_rules"]
