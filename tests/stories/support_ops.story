# The Support Operations tracker of examples/snapshot.json: a dozen change requests in
# every stage, as of 2027-01-20, with the deployments of 2027-02-01 and 2027-03-01 ahead,
# a few new requests for triage and two open incidents.
# Regenerate the snapshot with: python tests/test_example_snapshot.py
project gitlab-com/gl-security/corp/cust-support-ops/issue-tracker id 278964
now 2027-01-20 10:00
ops bob
user alice "Alice Moreau"
user bob "Bob Okafor"
user carol "Carol Lindqvist"
user dave "Dave Tanaka"
user erin "Erin Walsh"
user frank "Frank Ibáñez"
user grace "Grace Chen"
user rollout-bot "Rollout Bot"
milestone "CustSuppOps Deployment 2027-01-01" start 2026-12-01 due 2027-01-01 closed
milestone "CustSuppOps Deployment 2027-02-01" start 2027-01-01 due 2027-02-01
milestone "CustSuppOps Deployment 2027-03-01" start 2027-02-01 due 2027-03-01

feature 101 "Add a macro for refund requests" by alice, C2, customer Support-EMEA, assignee bob,
    milestone "CustSuppOps Deployment 2027-02-01",
    description "## What\nA macro that answers refund requests with the policy and the form link.\n\n## Why\nAgents type the same answer forty times a week.":
  2026-12-14 triage; 2026-12-15 planning; 2026-12-18 scheduling
  2027-01-04 development; 2027-01-08 validation; 2027-01-11 received by alice
  2027-01-11 14:00 implementation
note 101 by rollout-bot on 2027-01-08 11:00: "Planned for the 2027-02-01 deployment.\n\n<!-- rollout:announcement phase=pre deploy=2027-02-01 -->"

bug 102 "Ticket form drops the attachment field" by carol, C3, customer Support-AMER, assignee bob,
    milestone "CustSuppOps Deployment 2027-02-01":
  2027-01-04 triage; 2027-01-05 planning; 2027-01-06 development; 2027-01-11 validation
  2027-01-12 received by carol; 2027-01-13 implementation
note 102 by rollout-bot on 2027-01-13 10:00: "Planned for the 2027-02-01 deployment.\n\n<!-- rollout:announcement phase=pre deploy=2027-02-01 -->"

admin 103 "Rotate the Zendesk API token" by dave, C4, deployment Ad-hoc, assignee bob:
  2027-01-11 triage; 2027-01-12 scheduling; 2027-01-14 development
  2027-01-15 implementation skipped by bob

feature 104 "Route Japanese tickets to the APAC queue" by erin, C1, customer Support-APAC, assignee bob,
    milestone "CustSuppOps Deployment 2027-03-01":
  2026-12-01 triage; 2026-12-03 planning; 2026-12-10 scheduling; 2026-12-11 queued
  2027-01-05 development; 2027-01-14 validation awaiting

bug 105 "SLA breach emails go to the wrong group" by frank, C3, customer Support-EMEA, assignee bob,
    milestone "CustSuppOps Deployment 2027-02-01":
  2027-01-04 development; 2027-01-06 validation; 2027-01-07 rejected by frank
  2027-01-08 development; 2027-01-12 validation; 2027-01-13 received by frank
  2027-01-14 implementation

feature 106 "Auto-close solved tickets after 7 days" by alice, C2, customer Support-Global, assignee bob,
    milestone "CustSuppOps Deployment 2027-02-01":
  2027-01-04 development; 2027-01-07 validation; 2027-01-08 received by alice
  2027-01-11 development; 2027-01-15 validation

feature 107 "A sandbox for the Zendesk app" by grace, C3, customer Support-Readiness:
  2026-12-20 triage; 2026-12-21 planning; 2027-01-04 blocked

bug 108 "Broken link in the form footer" by carol, C4, assignee bob,
    milestone "CustSuppOps Deployment 2027-02-01":
  2026-12-28 triage; 2026-12-29 development; 2026-12-30 validation; 2026-12-31 received by carol
  2027-01-04 implementation; 2027-01-05 completed
close 108 on 2027-01-06

incident 109 "Zendesk outage on 2027-01-09" by frank, C1, labels "System::Zendesk Global":
  2027-01-09 triage

feature 110 "Satisfaction survey in Japanese" by erin, C3, customer Support-APAC:
  2026-12-15 triage; 2026-12-16 backlogged

admin 111 "Upgrade the Zendesk sandbox plan" by dave, C4:
  2027-01-03 triage; 2027-01-04 scheduling
link 107 blocked by 111 on 2027-01-04

feature 112 "Knowledge base search box" by grace, C2, deployment Exception, due 2027-01-25,
    customer Support-Global, assignee bob:
  2027-01-05 development; 2027-01-12 validation; 2027-01-13 received by grace
  2027-01-14 implementation

feature 113 "Retire the old escalation macro" by bob, C4:
  2026-12-10 triage; 2026-12-11 planning
close 113 on 2027-01-10

feature 114 "Triage queue view for managers" by alice, C3, customer Support-Managers:
  2027-01-18 triage

# New requests: a bug without steps to reproduce or a severity, a request people can make
# themselves (Zendesk managed content), and an incident about an Administrative system.
bug 115 "Ticket export drops the CC field" by carol, customer Support-AMER,
    description "## Expected behavior\nThe export keeps the CC addresses.\n\n## Actual behavior\nThe CC column is empty.":
  2027-01-19 triage
feature 116 "Update the refund macro wording" by erin, customer Support-EMEA,
    description "## What\nNew wording for the refund macro.\n\n## Why\nLegal asked for it.":
  2027-01-19 14:00 triage
incident 117 "Zendesk sandbox rejects logins" by grace, labels "System::Zendesk sandbox":
  2027-01-20 09:00 triage
