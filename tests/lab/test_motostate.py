"""chaos.lab.motostate: the lab's reset and images, against moto's own backends (in process)."""
from __future__ import annotations

import gc
import json
import subprocess
import sys
import weakref

from chaos.lab import motostate


def test_reset_drops_every_backend_and_keeps_none_alive():
    """moto's own reset leaves dropped account backends in an lru_cache (moto issue 6592): with
    reset_all, a deployment's resources go when the next deploy replaces them."""
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[motostate.ACCOUNT_ID]["us-east-1"]
    vpc = ec2.create_vpc("10.9.0.0/16")
    account = weakref.ref(ec2_backends[motostate.ACCOUNT_ID])
    del ec2
    motostate.reset_all()
    gc.collect()
    assert account() is None
    assert vpc.id not in ec2_backends[motostate.ACCOUNT_ID]["us-east-1"].vpcs


def test_reset_still_runs_the_resets_that_release_resources():
    """S3's reset closes the temporary file behind every key (moto's reason for its own reset)."""
    backend = motostate.s3_backend()
    backend.create_bucket("motostate-reset-check", "us-east-1")
    key = backend.put_object("motostate-reset-check", "k", b"value")
    motostate.reset_all()
    assert key._value_buffer.closed
    assert motostate.s3_bucket("motostate-reset-check") is None


def test_the_lab_images_are_what_moto_loads_and_hold_the_image_the_deploy_launches():
    """In a fresh process (moto reads MOTO_AMIS_PATH when its EC2 models are first imported)."""
    code = ("import json; from chaos.lab import motostate; assert motostate.use_lab_images(); "
            "from moto.ec2.models import ec2_backends; "
            "amis = ec2_backends[motostate.ACCOUNT_ID]['us-west-2'].amis; "
            "print(json.dumps([a.name for a in amis.values()])); "
            "assert motostate.use_lab_images() is False")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin"}, check=False)
    assert done.returncode == 0, done.stderr
    names = json.loads(done.stdout)
    assert len(names) == 1 and names[0].startswith("amzn-ami-hvm-")  # chaos.lab.deploy's filter
