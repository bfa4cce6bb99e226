"""A full-marks solution of 06-assessment (see tests/solutions/organizations.py for the shape)."""


def solve_assessment(lab):
    import labkit

    params = lab.params

    def pick(exercise_id, words):
        choices = lab.variant(exercise_id).params["choices"]
        lab.submit(exercise_id, next(c for c in choices if words in c))

    typed = lab.variant("full-name").params["typed"]
    lab.submit("full-name", str(labkit.parse_reference(typed).with_default_tag()))
    ref = labkit.parse_reference(lab.variant("name-parts").params["text"])
    parts = {"registry": ref.domain, "namespace": ref.namespace or "", "name": ref.name}
    lab.submit("name-parts", {**parts, "tag": ref.tag or "latest"})
    pick("latest", "may not be the newest")
    pick("several-tags", "same image ID")
    for choice in lab.variant("valid-name").params["choices"]:
        try:
            labkit.parse_reference(choice)
        except labkit.InvalidReference:
            continue
        lab.submit("valid-name", choice)
    pick("official-image", "dedicated team")
    pick("search-official", "[OK]")
    totals = {
        tag: len(lab.world.scan(f"alpine:{tag}").findings)
        for tag in ("3.18", "3.19", "3.20", "3.21")
    }
    lab.submit("scan-most-findings", f"alpine:{max(totals, key=totals.get)}")
    pick("login-safely", "--password-stdin")
    first = "first push" in lab.variant("push-layer-line").params["situation"]
    pick("push-layer-line", "Mounted from" if first else "already exists")
    pick("digest-and-size", "manifest")

    share = lab.variant("share-image").params
    client = lab.world.client("student")
    client.run(f"docker login -u {params['docker_id']} --password-stdin", params["password"])
    client.run(f"docker pull {share['source']}")
    client.run(f"docker tag {share['source']} {share['target']}")
    client.run(f"docker push {share['target']}")
    lab.check("share-image")

    acme = lab.world.hub(params["docker_id"], "registry.acme.com")
    acme.grant(params["org"], "qa", params["web"], "read")
    lab.check("qa-read-only")
    pick("owners", "owner of the organization")
