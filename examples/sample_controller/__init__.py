"""kubernetes/sample-controller on kubecodegen: a Foo custom resource owning a Deployment."""
