"""NVIDIA's JSON appraisal policy for attestation results (the format of
the Python SDK's ``validate_token(policy)``), matched on claims that were
verified first:

    {"version": "3.0", "authorization-rules": {"type": "JWT",
        "overall-claims": {...}, "detached-claims": {...}}}

Every key of a rule must be present in the claims and equal (JSON value
equality, type-sensitive: ``1`` is not ``true``); a rule that is an object
matches a claim that is an object recursively by the same rule; claims the
rule does not name are ignored. ``overall-claims`` is matched against the
overall token's claims, ``detached-claims`` against every device's.

Relying-party policies that decide the verification verdict itself (Rego
or JSON, ``Verifier(policy_file=...)``) are the library's; this module is
only the token-time check NVIDIA's SDK applies after attestation.
"""
import json

from ._verify import BadInput


def load(policy):
    """The authorization rules of a policy given as JSON text, bytes or a dict."""
    if isinstance(policy, (str, bytes, bytearray)):
        try:
            policy = json.loads(policy)
        except ValueError as e:
            raise BadInput("policy: not JSON: %s" % e) from None
    rules = policy.get("authorization-rules") if isinstance(policy, dict) else None
    if not isinstance(rules, dict):
        raise BadInput('policy: no "authorization-rules" object')
    for part in ("overall-claims", "detached-claims"):
        if not isinstance(rules.get(part, {}), dict):
            raise BadInput('policy: "%s" must be an object' % part)
    return rules


def _equal(a, b):
    # JSON equality: Python says True == 1, JSON's true is not 1.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def mismatch(claims, rules, path=""):
    """The first claim that does not satisfy rules, as a sentence, or None."""
    for key, want in rules.items():
        where = path + key
        if not isinstance(claims, dict) or key not in claims:
            return "%s: missing" % where
        have = claims[key]
        if isinstance(want, dict) and isinstance(have, dict):
            why = mismatch(have, want, where + ".")
            if why:
                return why
        elif not _equal(have, want):
            return "%s: %s, the policy wants %s" % (where, json.dumps(have), json.dumps(want))
    return None


def check(rules, overall, submods):
    """Applies authorization rules to verified claims: overall (a dict) and
    submods ({label: claims}). None when they match, else the reason."""
    why = mismatch(overall, rules.get("overall-claims", {}))
    if why:
        return "overall claims: " + why
    if not submods and rules.get("detached-claims"):
        return "no device claims to match the detached-claims against"
    for label in sorted(submods):
        why = mismatch(submods[label], rules.get("detached-claims", {}))
        if why:
            return "%s: %s" % (label, why)
    return None
