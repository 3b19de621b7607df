#!/usr/bin/env python3
"""Writes the fuzz seed corpora (testdata/fuzz/<FuzzName>/<fixture>) from the fixture roots.

Run from internal/virtdetect/testdata after changing fixtures: python3 make_fuzz_corpus.py
"""
import glob, os, shutil


def esc(bs):
    return ''.join(chr(c) if 32 <= c < 127 and chr(c) not in '"\\' else
                   ('\\' + chr(c) if chr(c) in '"\\' else '\\x%02x' % c) for c in bs)


def lit(v):
    if isinstance(v, str):
        return 'string("' + esc(v.encode('latin1')) + '")'
    return '[]byte("' + esc(v) + '")'


def write(fuzz, name, *vals):
    d = os.path.join('fuzz', fuzz)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'w') as f:
        f.write('go test fuzz v1\n' + ''.join(lit(v) + '\n' for v in vals))


def rd(root, p, text=False):
    try:
        b = open(os.path.join(root, p.lstrip('/')), 'rb').read()
        return b.decode('latin1') if text else b
    except OSError:
        return '' if text else b''


def main():
    shutil.rmtree('fuzz', ignore_errors=True)
    for fx in sorted(glob.glob('hosts/*/root')):
        name = fx.split('/')[1]
        cmd = rd(fx, '/proc/cmdline', True)
        if cmd.strip():
            write('FuzzParseCmdline', name, cmd)
        ci = rd(fx, '/proc/cpuinfo')
        if ci:
            write('FuzzParseCPUInfo', name, ci[:2000])
        cg = rd(fx, '/proc/1/cgroup')
        if cg:
            write('FuzzParseProcCgroup', name, cg)
        env = rd(fx, '/proc/1/environ')
        if env:
            write('FuzzParseEnviron', name, env)
        m = rd(fx, '/proc/1/mounts')
        if m:
            write('FuzzParseMounts', name, m)
        for t in sorted(glob.glob(fx + '/sys/firmware/acpi/tables/*'))[:1]:
            write('FuzzParseACPIHeader', name, open(t, 'rb').read())
        dt = rd(fx, '/proc/device-tree/compatible')
        feat = rd(fx, '/sys/hypervisor/properties/features', True).strip()
        if dt or feat:
            write('FuzzParseDeviceTreeAndXen', name, dt, feat)
        cpuid = ''
        try:
            cpuid = open(os.path.join('hosts', name, 'cpuid')).read().rstrip('\n')
        except OSError:
            pass
        dmi = rd(fx, '/sys/class/dmi/id/sys_vendor', True).strip()
        write('FuzzClassify', name, cpuid, dmi, cmd.strip(), ci[:600].decode('latin1'), cg.decode('latin1'),
              env.decode('latin1'), rd(fx, '/proc/sys/kernel/osrelease', True).strip(),
              rd(fx, '/sys/devices/system/clocksource/clocksource0/available_clocksource', True).strip())


if __name__ == '__main__':
    main()
