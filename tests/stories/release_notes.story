# A small tracker for the release notes of the 2027-02-01 deployment, as of 2027-01-20.
project ops/tracker id 7
user alice "Alice Moreau"
user carol "Carol Lindqvist"
milestone "CustSuppOps Deployment 2027-02-01" start 2027-01-01 due 2027-02-01
feature 1 "Refund macro" by alice, C4, customer Support-EMEA, milestone "CustSuppOps Deployment 2027-02-01":
  2027-01-04 development; 2027-01-08 validation; 2027-01-11 received implementation
bug 2 "Attachment field dropped" by carol, C3:
  2027-01-04 development; 2027-01-08 validation; 2027-01-11 received implementation
note 2 by rollout-bot on 2027-01-12: "<!-- rollout:announcement phase=pre deploy=2027-02-01 -->"
admin 3 "Rotate the API token" by dave, C4, milestone "CustSuppOps Deployment 2027-02-01":
  2027-01-04 development; 2027-01-12 implementation skipped
feature 4 "Queue view" by alice, C3, milestone "CustSuppOps Deployment 2027-02-01":
  2027-01-04 development; 2027-01-14 validation
bug 5 "Footer link" by carol, C4, milestone "CustSuppOps Deployment 2027-02-01":
  2027-01-04 development; 2027-01-05 validation; 2027-01-06 received implementation; 2027-01-07 completed
close 5 on 2027-01-08
feature 6 "Survey in Japanese" by erin, C2, customer Support-APAC, milestone "CustSuppOps Deployment 2027-02-01":
  2027-01-04 development; 2027-01-08 validation; 2027-01-11 received implementation
