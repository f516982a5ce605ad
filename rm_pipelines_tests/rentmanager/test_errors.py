import orjson

from rm_pipelines.rentmanager.errors import (
    ConflictError,
    RequestValidationError,
    ServerError,
    error_from_response,
)


def test_error_model_body_is_read():
    body = orjson.dumps({"UserMessage": "The record was changed by another user.", "DeveloperMessage": "Concurrency",
                         "ErrorCode": 1042}).decode()
    err = error_from_response("POST", "/Tenants", 409, "Conflict", body)
    assert isinstance(err, ConflictError)
    assert err.user_message == "The record was changed by another user." and err.error_code == 1042
    assert "POST /Tenants failed: HTTP 409 Conflict" in str(err) and "Concurrency" in str(err)


def test_aspnet_model_state_body_is_read():
    body = orjson.dumps({"Message": "The request is invalid.", "ModelState": {"filters": ["Invalid operator gte"]}}).decode()
    err = error_from_response("GET", "/Charges", 400, "Bad Request", body, page=3)
    assert isinstance(err, RequestValidationError)
    assert err.model_state == {"filters": ["Invalid operator gte"]}
    assert "GET /Charges (page 3)" in str(err) and "filters: Invalid operator gte" in str(err)


def test_unparseable_body_falls_back_to_text():
    err = error_from_response("GET", "/Units", 502, "Bad Gateway", "<html>upstream down</html>")
    assert isinstance(err, ServerError) and "upstream down" in str(err)
