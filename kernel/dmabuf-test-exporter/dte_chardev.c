// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf_test_exporter: the character device user space drives it through.
 *
 * A dynamic dma-buf exporter, backed by system pages, for testing
 * importers: it moves, evicts and revokes its buffers on command, injects
 * map and move failures, delays its copy fences and counts what importers
 * do. See uapi/dmabuf_test_exporter.h.
 */

#include <linux/dma-buf.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "dte_internal.h"

static int dte_ioctl_create(void __user *uarg)
{
	struct dte_create args;
	struct dma_buf *dmabuf;
	int fd;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	dmabuf = dte_buffer_create(args.size, args.flags);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		return fd;
	}
	/* Install only once user space has the number, or it would leak. */
	args.fd = fd;
	if (copy_to_user(uarg, &args, sizeof(args))) {
		put_unused_fd(fd);
		dma_buf_put(dmabuf);
		return -EFAULT;
	}
	fd_install(fd, dmabuf->file);
	return 0;
}

/* A reference to the dma-buf behind @fd, if this exporter made it. */
static struct dma_buf *dte_get_buffer(int fd)
{
	struct dma_buf *dmabuf = dma_buf_get(fd);

	if (IS_ERR(dmabuf))
		return dmabuf;
	if (!dte_is_buffer(dmabuf)) {
		dma_buf_put(dmabuf);
		return ERR_PTR(-EINVAL);
	}
	return dmabuf;
}

static int dte_ioctl_buf_op(unsigned int cmd, void __user *uarg)
{
	struct dte_buf_op args;
	struct dma_buf *dmabuf;
	int ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	dmabuf = dte_get_buffer(args.fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);

	if (cmd == DTE_IOC_MOVE)
		ret = dte_buffer_move(dmabuf, args.flags);
	else if (args.flags)
		ret = -EINVAL;
	else if (cmd == DTE_IOC_EVICT)
		ret = dte_buffer_evict(dmabuf);
	else
		ret = dte_buffer_revoke(dmabuf);

	dma_buf_put(dmabuf);
	return ret;
}

static int dte_ioctl_fail_maps(void __user *uarg)
{
	struct dte_fail_maps args;
	struct dma_buf *dmabuf;
	int ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	dmabuf = dte_get_buffer(args.fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);

	if (args.pad || args.error <= 0 || args.error > MAX_ERRNO)
		ret = -EINVAL;
	else
		ret = dte_buffer_fail_maps(dmabuf, args.count, -args.error);

	dma_buf_put(dmabuf);
	return ret;
}

static int dte_ioctl_fence_delay(void __user *uarg)
{
	struct dte_fence_delay args;
	struct dma_buf *dmabuf;
	int ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	dmabuf = dte_get_buffer(args.fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);

	ret = dte_buffer_set_fence_delay(dmabuf, args.delay_us);

	dma_buf_put(dmabuf);
	return ret;
}

static int dte_ioctl_stats(void __user *uarg)
{
	struct dte_stats args;
	struct dma_buf *dmabuf;
	int ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	dmabuf = dte_get_buffer(args.fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);

	if (args.pad)
		ret = -EINVAL;
	else
		ret = dte_buffer_get_stats(dmabuf, &args);
	if (!ret && copy_to_user(uarg, &args, sizeof(args)))
		ret = -EFAULT;

	dma_buf_put(dmabuf);
	return ret;
}

static long dte_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case DTE_IOC_CREATE:
		return dte_ioctl_create(uarg);
	case DTE_IOC_MOVE:
	case DTE_IOC_EVICT:
	case DTE_IOC_REVOKE:
		return dte_ioctl_buf_op(cmd, uarg);
	case DTE_IOC_FAIL_MAPS:
		return dte_ioctl_fail_maps(uarg);
	case DTE_IOC_FENCE_DELAY:
		return dte_ioctl_fence_delay(uarg);
	case DTE_IOC_STATS:
		return dte_ioctl_stats(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations dte_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = dte_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice dte_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = KBUILD_MODNAME,
	.fops = &dte_fops,
	.mode = 0600,
};

static int __init dte_init(void)
{
	int ret;

	ret = dte_copy_init();
	if (ret)
		return ret;
	ret = misc_register(&dte_miscdev);
	if (ret)
		dte_copy_exit();
	return ret;
}

static void __exit dte_exit(void)
{
	misc_deregister(&dte_miscdev);
	dte_copy_exit();
}

module_init(dte_init);
module_exit(dte_exit);

MODULE_DESCRIPTION("Dynamic dma-buf exporter that moves its buffers on command, for testing importers");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DTE_NS_DMA_BUF);
