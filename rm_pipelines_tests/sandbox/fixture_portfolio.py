"""A tiny hand-made portfolio following the sandbox contract (used for store/query unit tests that want
exact, known data independent of the generator)."""

from __future__ import annotations

from datetime import datetime, timedelta


def _d(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S")


def fixture_portfolio(units: int = 12, seed: int = 0, now: datetime | None = None) -> dict[str, list[dict]]:
    now = now or datetime(2026, 5, 1, 9, 30)
    base = now - timedelta(days=30)

    def audit(i: int) -> dict:
        return {"CreateDate": _d(base), "CreateUserID": 1, "UpdateDate": _d(base + timedelta(minutes=i)),
                "UpdateUserID": 1}

    out: dict[str, list[dict]] = {}
    out["Locations"] = [{"LocationID": 1, "Name": "Default", "FriendlyName": "Default", "IsMainLocation": True}]
    out["Properties"] = [
        {"PropertyID": 1, "Name": "Maple Court", "ShortName": "MAPLE", "PropertyType": "Residential",
         "IsCommercial": False, "IsActive": True, "SquareFootage": 40000, "ManagerName": "Ann Lee",
         "Email": "maple@example.com", "ConcurrencyID": 1, **audit(1)},
        {"PropertyID": 2, "Name": "Harbor Plaza", "ShortName": "HARBOR", "PropertyType": "Commercial",
         "IsCommercial": True, "IsActive": True, "SquareFootage": 90000, "ManagerName": "Bo Chen",
         "Email": "harbor@example.com", "ConcurrencyID": 1, **audit(2)},
        {"PropertyID": 3, "Name": "Oak Hills HOA", "ShortName": "OAKHOA", "PropertyType": "Association",
         "IsCommercial": False, "IsActive": False, "SquareFootage": None, "ManagerName": "Cy Diaz",
         "Email": None, "ConcurrencyID": 1, **audit(3)},
    ]
    out["UnitTypes"] = [
        {"UnitTypeID": 1, "Name": "1BR", "Bedrooms": 1, "Bathrooms": 1.0, "Comment": "", **audit(4)},
        {"UnitTypeID": 2, "Name": "2BR", "Bedrooms": 2, "Bathrooms": 1.5, "Comment": "", **audit(5)},
    ]
    out["Units"] = [
        {"UnitID": i, "PropertyID": 1 + (i - 1) % 3, "UnitTypeID": 1 + i % 2, "Name": f"{100 + i}",
         "Bedrooms": 1 + i % 2, "Bathrooms": 1.0, "SquareFootage": 700 + 10 * i, "MaxOccupancy": 4,
         "Comment": "", "SortOrder": i, **audit(10 + i)}
        for i in range(1, units + 1)
    ]
    out["Tenants"] = [
        {"TenantID": i, "TenantDisplayID": 1000 + i, "Name": f"Smith{i}, John", "FirstName": "John",
         "LastName": f"Smith{i}", "IsCompany": False, "Status": "Current" if i % 4 else "Past",
         "PropertyID": 1 + (i - 1) % 3, "RentDueDay": 1, "RentPeriod": "Monthly", "Comment": "", **audit(30 + i)}
        for i in range(1, units + 1)
    ]
    out["ContactTypes"] = [{"ContactTypeID": 1, "Name": "Head of Household"}, {"ContactTypeID": 2, "Name": "Spouse"}]
    contacts = []
    for t in out["Tenants"]:
        tid = t["TenantID"]
        contacts.append({"ContactID": len(contacts) + 1, "ParentID": tid, "ParentType": "Tenant",
                         "FirstName": "John", "LastName": t["LastName"], "MiddleName": None, "IsPrimary": True,
                         "IsActive": True, "ContactTypeID": 1, "DateOfBirth": "1980-01-01T00:00:00",
                         "FederalTaxID": "***-**-1234", "Email": f"t{tid}@example.com", "Employer": "Acme",
                         "ApplicantType": "Applicant", "AnnualIncome": 40000.0 + tid, "Comment": "",
                         **audit(60 + len(contacts))})
        contacts.append({"ContactID": len(contacts) + 1, "ParentID": tid, "ParentType": "Tenant",
                         "FirstName": "Jane", "LastName": t["LastName"], "MiddleName": None, "IsPrimary": False,
                         "IsActive": True, "ContactTypeID": 2, "DateOfBirth": "1982-02-02T00:00:00",
                         "FederalTaxID": "***-**-5678", "Email": None, "Employer": None,
                         "ApplicantType": "CoApplicant", "AnnualIncome": 0.0, "Comment": "",
                         **audit(60 + len(contacts))})
    out["Contacts"] = contacts
    out["Leases"] = [
        {"LeaseID": i, "TenantID": i, "UnitID": i, "PropertyID": 1 + (i - 1) % 3,
         "MoveInDate": "2024-06-01T00:00:00", "MoveOutDate": None if i % 4 else "2025-12-31T00:00:00",
         "ExpectedMoveOutDate": None, "NoticeDate": None, "IsCommercial": False, "SortOrder": 1, **audit(100 + i)}
        for i in range(1, units + 1)
    ]
    out["LeaseRenewals"] = []
    for lease in out["Leases"]:
        for k, (start, end) in enumerate((("2024-06-01", "2025-05-31"), ("2025-06-01", "2026-05-31"))):
            out["LeaseRenewals"].append({
                "LeaseRenewalID": len(out["LeaseRenewals"]) + 1, "ParentLeaseID": lease["LeaseID"],
                "UnitID": lease["UnitID"], "LeaseLength": 12, "SignDate": f"{start}T00:00:00",
                "StartDate": f"{start}T00:00:00", "EndDate": f"{end}T00:00:00", **audit(120 + k)})
    out["ChargeTypes"] = [
        {"ChargeTypeID": 1, "Name": "RENT", "Description": "Rent", "DefaultAmount": 0.0, "IsCam": False,
         "IsActive": True, "IsProrated": True, "GLAccountID": 4000, "ConcurrencyID": 1, **audit(5)},
        {"ChargeTypeID": 2, "Name": "LATE", "Description": "Late fee", "DefaultAmount": 50.0, "IsCam": False,
         "IsActive": True, "IsProrated": False, "GLAccountID": 4100, "ConcurrencyID": 1, **audit(6)},
    ]
    charges, payments, allocations, credits = [], [], [], []
    for t in out["Tenants"]:
        tid = t["TenantID"]
        for m in range(6):
            cid = len(charges) + 1
            tdate = f"2025-{m + 1:02d}-01T00:00:00"
            amount = 1000.0 + tid
            paid = m < 5
            charges.append({"ChargeID": cid, "ID": cid, "AccountID": tid, "AccountType": "Customer",
                            "PropertyID": t["PropertyID"], "UnitID": tid, "ChargeTypeID": 1, "Amount": amount,
                            "AmountAllocated": amount if paid else 0.0, "IsFullyAllocated": paid,
                            "TransactionDate": tdate, "TransactionType": "Charge", "Reference": f"R{cid}",
                            "Comment": "Rent" if m % 2 else "Monthly rent", **audit(200 + cid)})
            if paid:
                pid = len(payments) + 1
                payments.append({"PaymentID": pid, "ID": pid, "AccountID": tid, "AccountType": "Customer",
                                 "Amount": amount, "AmountAllocated": amount, "IsFullyAllocated": True,
                                 "TransactionDate": f"2025-{m + 1:02d}-03T00:00:00", "TransactionType": "Payment",
                                 "Reference": f"CHK{pid}", "Comment": "", "ReversalDate": None,
                                 "ReversalType": None, **audit(500 + pid)})
                allocations.append({"AllocationID": len(allocations) + 1, "PaymentID": pid, "ChargeID": cid,
                                    "PropertyID": t["PropertyID"], "UnitID": tid, "Amount": amount,
                                    "TransactionDate": f"2025-{m + 1:02d}-03T00:00:00", **audit(700 + pid)})
        credits.append({"CreditID": tid, "ID": tid, "AccountID": tid, "AccountType": "Customer", "ChargeTypeID": 1,
                        "PropertyID": t["PropertyID"], "UnitID": tid, "Amount": 25.0,
                        "TransactionDate": "2025-02-10T00:00:00", "TransactionType": "Credit", "Comment": "Concession",
                        **audit(900 + tid)})
    out["Charges"], out["Payments"], out["Allocations"], out["Credits"] = charges, payments, allocations, credits
    out["UserDefinedFields"] = [
        {"UserDefinedFieldID": 1, "Name": "Property Kind", "FieldType": "Text", "ParentType": "Property",
         "ComboList": None, "IsRequired": False, "SortOrder": 1, **audit(1)},
        {"UserDefinedFieldID": 2, "Name": "Certified Annual Income", "FieldType": "Numeric", "ParentType": "Tenant",
         "ComboList": None, "IsRequired": False, "SortOrder": 2, **audit(2)},
    ]
    udvs = []
    for p, kind in ((1, "multifamily"), (2, "commercial"), (3, "hoa")):
        udvs.append({"UserDefinedValueID": len(udvs) + 1, "UserDefinedFieldID": 1, "ParentID": p,
                     "ParentType": "Property", "Name": "Property Kind", "Value": kind, "FieldType": "Text",
                     "UpdateDate": _d(base), "UpdateUserID": 1})
    for t in out["Tenants"]:
        udvs.append({"UserDefinedValueID": len(udvs) + 1, "UserDefinedFieldID": 2, "ParentID": t["TenantID"],
                     "ParentType": "Tenant", "Name": "Certified Annual Income",
                     "Value": f"{40000 + 1000 * t['TenantID']:.2f}", "FieldType": "Numeric",
                     "UpdateDate": _d(base), "UpdateUserID": 1})
    out["UserDefinedValues"] = udvs
    out["Addresses"] = [
        {"AddressID": p, "ParentID": p, "ParentType": "Property", "AddressTypeID": 1, "Street": f"{p} Main St",
         "City": "Springfield", "State": "IL", "PostalCode": "62701", "IsPrimary": True, "IsBilling": False}
        for p in (1, 2, 3)
    ]
    out["ServiceManagerCategories"] = [{"ServiceManagerCategoryID": 1, "Name": "Plumbing", "Description": "",
                                        "SortOrder": 1, "Color": "#000000", "IsActive": True}]
    out["ServiceManagerStatuses"] = [{"ServiceManagerStatusID": 1, "Name": "Open", "Description": "", "SortOrder": 1,
                                      "Color": "#000000", "IsActive": True, "IsClosed": False}]
    out["ServiceManagerPriorities"] = [{"ServiceManagerPriorityID": 1, "Name": "High", "Description": "",
                                        "SortOrder": 1, "Color": "#000000", "IsActive": True}]
    out["Vendors"] = [{"VendorID": 1, "Name": "Pipe Pros", "Payee": "Pipe Pros LLC", "Category": "Plumbing",
                       "Is1099": True, "IsActive": True, "InsuranceExpiration": "2026-12-31T00:00:00", "Comment": "",
                       **audit(3)}]
    out["ServiceManagerIssues"] = [
        {"ServiceManagerIssueID": i, "Title": f"Leak {i}", "Description": "Kitchen sink", "CategoryID": 1,
         "StatusID": 1, "PriorityID": 1, "VendorID": 1, "IsClosed": False, "CloseDate": None,
         "AssignedOpenDate": "2026-04-01T00:00:00", "DueDate": None, "ScheduledDate": None, **audit(40 + i)}
        for i in (1, 2, 3)
    ]
    out["ServiceManagerIssueLinkedUnits"] = [
        {"ServiceManagerIssueLinkedUnitID": i, "ServiceManagerIssueID": i, "UnitID": i} for i in (1, 2, 3)
    ]
    out["ServiceManagerIssueLinkedProperties"] = []
    out["ServiceManagerIssueLinkedTenants"] = []
    out["Owners"] = [{"OwnerID": 1, "Name": "Owner One", "DisplayName": "Owner One", "Status": "Active",
                      "Comment": "", **audit(7)}]
    out["OwnerContracts"] = [{"OwnerContractID": 1, "OwnerID": 1, "PropertyID": 1, "Percentage": 100.0,
                              "StartDate": "2020-01-01T00:00:00", "EndDate": None, **audit(8)}]
    out["Prospects"] = [
        {"ProspectID": i, "PropertyID": 1, "Name": f"Prospect{i}, Pat", "FirstName": "Pat", "LastName": f"Prospect{i}",
         "ProspectStatus": "Active", "ApplicationDate": None, "PeopleCount": 2, "RentMin": 900.0, "RentMax": 1400.0,
         "MoveInDate": None, "ReservedUnitID": None, **audit(9 + i)}
        for i in (1, 2)
    ]
    return out
