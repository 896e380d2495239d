"""The pool processes' pipe messages: a frame's JSON text travels after the bundle's header, as it is."""
import json

from server.jobs.pool import SEPARATOR, pack, unpack


def test_a_bundle_with_frames_comes_back_as_it_was_sent_and_the_frames_are_not_escaped():
    boundary = json.dumps({"type": "boundary", "epoch": 3, "probabilities": "AAAA", "note": 'a "quoted" é \x00'},
                          ensure_ascii=False)
    item = ["events", "job1", [{"type": "epoch", "epoch": 3, "train_loss": 0.5}, ("boundary", 3, boundary),
                               {"type": "status", "status": "paused", "epoch": 3}, ("gradients", 3, "{}")]]
    data = pack(item)
    assert data.count(SEPARATOR) == 2 and boundary.encode() in data          # raw text, not a JSON string in JSON
    assert unpack(data) == item


def test_messages_without_frames_are_plain_json():
    for item in (["events", "job1", [{"type": "epoch", "epoch": 1}]], ["result", "job1", {"outcome": "completed"}],
                 ["ready", 123, None]):
        assert json.loads(pack(item)) == item and unpack(pack(item)) == item
