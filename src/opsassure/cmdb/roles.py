"""CMDB permissions per role (merged into the core roles after every migrate)."""

_READ = [
    "cmdb.view_configurationitem",
    "cmdb.view_citype",
    "cmdb.view_relation",
    "cmdb.view_cichange",
    "cmdb.view_tag",
    "cmdb.view_location",
    "cmdb.view_maintenancecontract",
]
_WRITE = [
    "cmdb.add_configurationitem",
    "cmdb.change_configurationitem",
    "cmdb.add_relation",
    "cmdb.delete_relation",
    "cmdb.add_tag",
    "cmdb.add_location",
    "cmdb.change_location",
    "cmdb.view_supplier",
    "cmdb.view_discovery",
    "cmdb.view_discrepancy",
    "cmdb.change_discrepancy",
]
_AUDIT = [
    "cmdb.view_configauditrule",
    "cmdb.view_configauditrun",
    "cmdb.view_configauditscore",
    "cmdb.view_configauditfinding",
]
_MANAGE = [
    "cmdb.delete_configurationitem",
    "cmdb.add_citype",
    "cmdb.change_citype",
    "cmdb.delete_citype",
    "cmdb.add_supplier",
    "cmdb.change_supplier",
    "cmdb.add_maintenancecontract",
    "cmdb.change_maintenancecontract",
    "cmdb.add_configauditrule",
    "cmdb.change_configauditrule",
    "cmdb.delete_configauditrule",
    "cmdb.add_configauditrun",
    "cmdb.change_tag",
    "cmdb.delete_tag",
    "cmdb.delete_location",
    "cmdb.add_discovery",
]

PERMISSIONS = {
    "service_manager": _READ + _WRITE + _AUDIT + _MANAGE,
    "engineer": _READ + _WRITE + _AUDIT + ["cmdb.add_discovery"],
    "operator": [*_READ, "cmdb.view_supplier"],
    "auditor": _READ
    + _AUDIT
    + ["cmdb.view_supplier", "cmdb.view_discovery", "cmdb.view_discrepancy"],
    # A customer's admin sees the audit results of their own CIs (scores, findings, summary).
    "customer_admin": [*_READ, "cmdb.view_configauditscore", "cmdb.view_configauditfinding"],
    "customer_user": [
        "cmdb.view_configurationitem",
        "cmdb.view_citype",
        "cmdb.view_relation",
        "cmdb.view_tag",
    ],
}
