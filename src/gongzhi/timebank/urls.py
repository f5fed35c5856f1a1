from django.urls import path

from . import views

app_name = "timebank"

urlpatterns = [
    path("", views.home, name="home"),
    path("statement.xlsx", views.my_statement_xlsx, name="statement_xlsx"),
    path("transfer/", views.transfer, name="transfer"),
    path("spend/", views.spend, name="spend"),
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/<int:pk>/", views.account, name="account"),
    path("accounts/<int:pk>/statement.xlsx", views.account_xlsx, name="account_xlsx"),
    path("accounts/<int:pk>/credit/", views.account_credit, name="account_credit"),
    path("accounts/<int:pk>/family/", views.account_family, name="account_family"),
    path("accounts/<int:pk>/family/<int:link_id>/delete/", views.account_unlink, name="account_unlink"),
    path("accounts/<int:pk>/reverse/<int:txn_id>/", views.account_reverse, name="account_reverse"),
    path("ledger/", views.ledger, name="ledger"),
    path("requests/", views.credit_requests, name="requests"),
    path("requests/<int:pk>/approve/", views.credit_request_approve, name="request_approve"),
    path("requests/<int:pk>/decline/", views.credit_request_decline, name="request_decline"),
]
