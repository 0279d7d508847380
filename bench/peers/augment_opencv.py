"""OpenCV peer of the augment benchmark: the same per-frame choices (flip, crop window, brightness, blur sigma) as
adas-forge's recipe drew, applied with cv2 to the same PNG files, JPEG out, one process per core.

usage: /usr/bin/python3 augment_opencv.py PLAN.json OUT_DIR PROCESSES
PLAN.json: {"quality": q, "width": w, "height": h, "frames": [{"input", "output", "flip", "window": [x, y, w, h],
"brightness", "blur"}]}; prints {"frames": written, "cpu_s": CPU seconds of this process and its workers}.
"""
import json
import resource
import sys
from multiprocessing import Pool

import cv2

PLAN = None


def init(plan_file):
    global PLAN
    # One thread per process, as libvips runs with one per image in each of adas-forge's workers.
    cv2.setNumThreads(1)
    with open(plan_file) as f:
        PLAN = json.load(f)


def one(i):
    fr = PLAN["frames"][i]
    img = cv2.imread(fr["input"], cv2.IMREAD_COLOR)
    x, y, w, h = fr["window"]
    if fr["flip"]:
        img = cv2.flip(img, 1)
    img = img[y:y + h, x:x + w]
    if (w, h) != (PLAN["width"], PLAN["height"]):
        img = cv2.resize(img, (PLAN["width"], PLAN["height"]), interpolation=cv2.INTER_LINEAR)
    if fr["blur"]:
        img = cv2.GaussianBlur(img, (0, 0), fr["blur"])
    if fr["brightness"]:
        img = cv2.convertScaleAbs(img, alpha=1.0, beta=255.0 * fr["brightness"])
    ok = cv2.imwrite(fr["output"], img, [cv2.IMWRITE_JPEG_QUALITY, PLAN["quality"]])
    if not ok:
        raise RuntimeError("could not write " + fr["output"])
    return 1


def main():
    plan_file, _out, procs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(plan_file) as f:
        n = len(json.load(f)["frames"])
    with Pool(procs, initializer=init, initargs=(plan_file,)) as pool:
        done = sum(pool.imap_unordered(one, range(n), chunksize=4))
    cpu = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN) for f in ("ru_utime", "ru_stime"))
    print(json.dumps({"frames": done, "cpu_s": cpu}))


if __name__ == "__main__":
    main()
