from fastapi.testclient import TestClient


def check_list(client: TestClient) -> None:
    assert client.get("/items/").status_code == 200
