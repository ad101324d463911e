/* minimal fake kernel-module ELF: only a .modinfo section + this_module, enough for depmod/modprobe -n */
__attribute__((section(".modinfo"), used)) static const char mi1[] = "license=GPL";
__attribute__((section(".modinfo"), used)) static const char mi2[] = "description=USB Mass Storage driver for Linux (FAKE capture stub)";
__attribute__((section(".modinfo"), used)) static const char mi3[] = "alias=usb:v*p*d*dc*dsc*dp*ic08isc06ip50in*";
__attribute__((section(".modinfo"), used)) static const char mi4[] = "depends=";
__attribute__((section(".modinfo"), used)) static const char mi5[] = "name=usb_storage";
__attribute__((section(".modinfo"), used)) static const char mi6[] = "vermagic=6.18.44-fc-v595 SMP preempt mod_unload ";
__attribute__((section(".gnu.linkonce.this_module"), used)) static char this_module[64];
