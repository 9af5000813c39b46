from web.app import create_app


def test_health_page_reports_the_database(settings, database):
    app = create_app(settings, database=database)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": True}
