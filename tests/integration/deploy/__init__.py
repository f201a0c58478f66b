"""The deploy rehearsal's helpers: template.yaml as a moto CloudFormation stack, and the function
role's policies checked against the AWS calls a run makes."""
