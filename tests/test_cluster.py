"""`$TF_CONFIG`: read, checked, and every mistake a message that says what to set."""

import pytest

import dlkit
from dlkit._runtime.cluster import read_tf_config


@pytest.mark.parametrize("text, words", [
    (None, "which is not set"),
    ('{"cluster": {"worker": ["a:1"]}', "not valid JSON"),
    ('{"task": {"type": "worker", "index": 0}}', 'no "cluster"'),
    ('{"cluster": {"ps": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "only chief and worker"),
    ('{"cluster": {"worker": ["a"]}, "task": {"type": "worker", "index": 0}}', '"host:port"'),
    ('{"cluster": {"worker": ["a:1", "a:1"]}, "task": {"type": "worker", "index": 0}}',
     "an address twice"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "chief", "index": 0}}', '"task"'),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": ["worker"], "index": 0}}', '"task"'),
    ('{"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 2}}',
     "must be 0 to 1"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": true}}',
     "must be 0 to 0"),
    ("[]", 'no "cluster"'),
])
def test_malformed_tf_config_says_what_to_set(monkeypatch, text, words):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(dlkit.ClusterError) as info:
        read_tf_config(text)
    message = str(info.value)
    assert message.startswith("TF_CONFIG: ") and words in message
    assert '"task": {"type": "worker", "index": 0}' in message  # an example to copy


def test_chief_is_chief_0_or_else_worker_0():
    two = read_tf_config('{"cluster": {"worker": ["a:1", "b:1"]}, '
                         '"task": {"type": "worker", "index": 1}}')
    assert not two.is_chief and two.peers == ["a:1"] and two.size == 2
    with_chief = read_tf_config('{"cluster": {"chief": ["c:1"], "worker": ["a:1"]}, '
                                '"task": {"type": "worker", "index": 0}}')
    assert not with_chief.is_chief and with_chief.peers == ["c:1"]

