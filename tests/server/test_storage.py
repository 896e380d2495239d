"""Storage: jobs and epochs survive reopening, interrupted marking, batches are atomic."""
from server.jobs.storage import Storage


def test_jobs_and_epochs_survive_reopening(tmp_path):
    db = tmp_path / "n.sqlite3"
    s = Storage(db)
    job = s.create_job({"a": 1}, epochs=3)
    s.write_batch([(job["id"], {"epoch": 1, "train_loss": 0.5}), (job["id"], {"epoch": 2, "train_loss": 0.25})],
                  [(job["id"], {"epoch": 2, "latest": {"epoch": 2}, "status": "running"})])
    s.close()
    s2 = Storage(db)
    again = s2.get_job(job["id"])
    assert again["spec"] == {"a": 1} and again["epoch"] == 2 and again["latest"] == {"epoch": 2}
    assert [r["epoch"] for r in s2.get_epochs(job["id"])] == [1, 2]
    assert [r["epoch"] for r in s2.get_epochs(job["id"], since=1)] == [2]


def test_mark_interrupted_only_touches_active_jobs(tmp_path):
    s = Storage(tmp_path / "n.sqlite3")
    a, b, c = (s.create_job({}, 1) for _ in range(3))
    s.update_job(a["id"], status="running")
    s.update_job(b["id"], status="completed")
    ids = s.mark_interrupted("server restarted")
    assert set(ids) == {a["id"], c["id"]}
    assert s.get_job(a["id"])["status"] == "interrupted" and s.get_job(a["id"])["message"] == "server restarted"
    assert s.get_job(b["id"])["status"] == "completed"


def test_list_jobs_filters_pages_and_orders_newest_first(tmp_path):
    s = Storage(tmp_path / "n.sqlite3")
    ids = [s.create_job({}, 1)["id"] for _ in range(5)]
    s.update_job(ids[0], status="failed")
    items, total = s.list_jobs(limit=2, offset=1)
    assert total == 5 and [j["id"] for j in items] == [ids[3], ids[2]]
    items, total = s.list_jobs(status="failed")
    assert total == 1 and items[0]["id"] == ids[0]


def test_delete_removes_job_and_its_epochs(tmp_path):
    s = Storage(tmp_path / "n.sqlite3")
    job = s.create_job({}, 1)
    s.write_batch([(job["id"], {"epoch": 1})], [])
    s.delete_job(job["id"])
    assert s.get_job(job["id"]) is None and s.get_epochs(job["id"]) == []
